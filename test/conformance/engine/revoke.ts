import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TaskRevokedError } from '../../../src/index.js';
import { delay, waitFor } from '../../support/wait.js';
import type { Setup } from '../seam.js';

/** result.revoke() and expires, as a worker sees them. */
export function describeRevoke(setup: Setup): void {
  describe('revoke', () => {
    it('a revoked pending task never runs', async () => {
      const env = await setup();
      const r = await env.tasks.record.applyAsync(['never'], { countdown: 200 });
      const info = await r.revoke();
      expect(info.state).toBe('REVOKED');
      await env.worker();
      await delay(500);
      expect(env.lines()).toEqual([]);
      await expect(r.get({ timeout: 1000 })).rejects.toBeInstanceOf(TaskRevokedError);
    });

    it('a running task gets its signal aborted and ends REVOKED', async () => {
      const env = await setup();
      await env.worker();
      const r = await env.tasks.slow.delay('victim', 10_000);
      await waitFor(() => env.lines().some((l) => l.startsWith('start victim')), 5000, 'task start');
      await env.otherApp().result(r.id).revoke();
      await waitFor(() => env.lines().some((l) => l.startsWith('aborted victim')), 5000, 'abort');
      expect(env.lines().find((l) => l.startsWith('aborted victim'))).toContain('TaskRevokedError');
      await delay(100);
      expect((await r.info())!.state).toBe('REVOKED');
      expect(env.lines().some((l) => l.startsWith('end victim'))).toBe(false);
    });

    it('revoking an unknown id throws; revoking a finished task changes nothing', async () => {
      const env = await setup();
      await expect(env.app.result(randomUUID()).revoke()).rejects.toThrow(/no task/);
      await env.worker();
      const r = await env.tasks.add.delay(1, 2);
      await r.get({ timeout: 5000 });
      expect((await r.revoke()).state).toBe('SUCCESS');
    });

    it('an expired task is not run', async () => {
      const env = await setup();
      const r = await env.tasks.record.applyAsync(['stale'], { expires: 50 });
      await delay(120);
      await env.worker();
      await expect(r.get({ timeout: 3000 })).rejects.toBeInstanceOf(TaskRevokedError);
      expect(env.lines()).toEqual([]);
    });
  });
}
