import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TaskInfo } from '../../../src/index.js';
import { delay, waitFor } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** Backend.revoke and subscribeRevocations: a pending task never runs, a running one's worker is told and can no longer finish it. */
export function describeRevoke(setup: Setup): void {
  describe('revoke', () => {
    it('a pending (or delayed) task is REVOKED and never handed out; unknown is null; a finished task comes back unchanged', async () => {
      const b = (await setup()).app.backend;
      const heard: string[] = [];
      const off = await b.subscribeRevocations((id) => heard.push(id));
      const [now, later] = [newTask(), newTask({ runAt: Date.now() + 100 })];
      await b.enqueueMany([now, later]);
      const revoked = (await b.revoke(now.id))!;
      expect(revoked).toMatchObject({ state: 'REVOKED', version: 2 });
      expect(revoked.finishedAt).toBeDefined();
      expect((await b.revoke(later.id))!.state).toBe('REVOKED');
      expect(await b.claim(claimRequest('w', { waitMs: 300 }))).toEqual([]);
      expect(await b.revoke(now.id)).toEqual(revoked);
      expect(await b.revoke(randomUUID())).toBeNull();
      await delay(30);
      expect(heard).toEqual([]); // neither was running: no worker to tell
      await off();
    });

    it('a running task is REVOKED, revocation listeners here and in another app hear it, and the worker can no longer finish it', async () => {
      const env = await setup();
      const worker = env.app.backend;
      const admin = env.otherApp().backend;
      const heardHere: string[] = [];
      const heardThere: string[] = [];
      const statuses: TaskInfo[] = [];
      const offHere = await worker.subscribeRevocations((id) => heardHere.push(id));
      const offThere = await env.otherApp().backend.subscribeRevocations((id) => heardThere.push(id));
      const task = newTask();
      await admin.enqueue(task);
      const offStatus = await worker.subscribeStatus(task.id, (info) => statuses.push(info));
      const [claimed] = await worker.claim(claimRequest());
      expect(await admin.revoke(task.id)).toMatchObject({ state: 'REVOKED', version: 3 });
      await waitFor(() => heardHere.length === 1 && heardThere.length === 1, 3000, 'the revocation');
      expect(heardHere).toEqual([task.id]);
      expect(heardThere).toEqual([task.id]);
      await waitFor(() => statuses.length === 2, 3000, 'two status events');
      expect(statuses.map((s) => [s.state, s.version])).toEqual([
        ['STARTED', 2],
        ['REVOKED', 3],
      ]);
      expect(await worker.complete(claimed!, '1')).toBe(false);
      expect(await worker.extendLeases([claimed!], 1000)).toEqual([task.id]);
      await offHere();
      await offHere(); // twice is fine
      await offThere();
      await offStatus();
    });
  });
}
