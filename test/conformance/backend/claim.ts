import { describe, expect, it } from 'vitest';
import { delay } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** Backend.claim: which due tasks it hands out, in what order, and never early or twice (waiting claims: claim-wait.ts). */
export function describeClaim(setup: Setup): void {
  describe('claim', () => {
    it('hands out due tasks in enqueue order, across batches, each once', async () => {
      const b = (await setup()).app.backend;
      const tasks = Array.from({ length: 30 }, () => newTask());
      await b.enqueueMany(tasks.slice(0, 10));
      for (const t of tasks.slice(10)) await b.enqueue(t);
      const first = await b.claim(claimRequest('w1', { limit: 12 }));
      const second = await b.claim(claimRequest('w1', { limit: 50 }));
      expect([...first, ...second].map((c) => c.id)).toEqual(tasks.map((t) => t.id));
      expect(first[0]).toEqual({
        id: tasks[0]!.id,
        name: 'conf.add',
        queue: 'default',
        payload: '[1,2]',
        attempt: 1,
        retries: 0,
        enqueuedAt: tasks[0]!.enqueuedAt,
        workerId: 'w1',
      });
      expect(await b.getInfo(tasks[0]!.id)).toMatchObject({ state: 'STARTED', version: 2, attempts: 1 });
      expect((await b.getInfo(tasks[0]!.id))!.startedAt).toBeGreaterThanOrEqual(tasks[0]!.enqueuedAt);
      expect(await b.claim(claimRequest())).toEqual([]);
    });

    it('keeps queues apart and claims from several queues in the order given', async () => {
      const b = (await setup()).app.backend;
      const x = newTask({ queue: 'x' });
      const y = newTask({ queue: 'y' });
      await b.enqueueMany([y, x]);
      expect(await b.claim(claimRequest('w', { queues: ['z'] }))).toEqual([]);
      const got = await b.claim(claimRequest('w', { queues: ['x', 'y'] }));
      expect(got.map((c) => c.id)).toEqual([x.id, y.id]);
    });

    it('never hands out a delayed task before its runAt, and hands it out once, across apps', async () => {
      const env = await setup();
      const claimers = [env.app.backend, env.otherApp().backend];
      const producer = env.otherApp().backend;
      const t0 = Date.now();
      const tasks = Array.from({ length: 40 }, (_, i) => newTask({ runAt: t0 + 100 + (i % 8) * 40 }));
      await producer.enqueueMany(tasks);
      const due = new Map(tasks.map((t) => [t.id, t.runAt]));
      const seen: Array<{ id: string; at: number }> = [];
      const until = t0 + 1200;
      await Promise.all(
        claimers.map(async (b, i) => {
          while (Date.now() < until) {
            const got = await b.claim(claimRequest(`w${i}`, { waitMs: 100, limit: 3 }));
            const at = Date.now();
            for (const c of got) seen.push({ id: c.id, at });
          }
        }),
      );
      expect(seen).toHaveLength(40);
      expect(new Set(seen.map((s) => s.id)).size).toBe(40);
      for (const s of seen) expect(s.at).toBeGreaterThanOrEqual(due.get(s.id)!);
    });

    it('a task that expired before starting ends REVOKED with TaskExpired and is not handed out', async () => {
      const b = (await setup()).app.backend;
      const expired = newTask({ expiresAt: Date.now() + 30 });
      const fine = newTask({ expiresAt: Date.now() + 60_000 });
      await b.enqueueMany([expired, fine]);
      await delay(60);
      const claimed = await b.claim(claimRequest());
      expect(claimed.map((x) => x.id)).toEqual([fine.id]);
      const info = (await b.getInfo(expired.id))!;
      expect(info).toMatchObject({ state: 'REVOKED', version: 2, attempts: 0, error: { type: 'TaskExpired' } });
      expect(info.finishedAt).toBeDefined();
    });
  });
}
