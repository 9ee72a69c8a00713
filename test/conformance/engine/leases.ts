import { describe, expect, it } from 'vitest';
import { waitFor } from '../../support/wait.js';
import { defineConformanceTasks } from '../tasks.js';
import type { Setup } from '../seam.js';

/** Leases through workers (expiry, renewal) and worker.stop(). */
export function describeLeases(setup: Setup): void {
  describe('leases and graceful stop', () => {
    it('a task whose worker stopped responding runs again when its lease expires', async () => {
      const env = await setup();
      const r = await env.tasks.record.delay('orphan');
      // A "worker" that claims and then dies without a word.
      const [claimed] = await env.app.backend.claim({
        workerId: 'dead',
        queues: ['default'],
        limit: 1,
        leaseMs: 300,
        waitMs: 0,
      });
      expect(claimed?.id).toBe(r.id);
      await env.worker({ rescueIntervalMs: 100 });
      expect(await r.get({ timeout: 5000 })).toMatchObject({ key: 'orphan' });
      expect((await r.info())!.attempts).toBe(2);
      // The dead worker's late report is refused.
      expect(await env.app.backend.complete(claimed!, '"late"')).toBe(false);
      expect((await r.info())!.result).toMatchObject({ key: 'orphan' });
    });

    it('a live worker renews its lease: a long task is not run twice', async () => {
      const env = await setup();
      await env.worker({ leaseMs: 200, rescueIntervalMs: 50 });
      await env.worker({ leaseMs: 200, rescueIntervalMs: 50 });
      const r = await env.tasks.record.delay('long', 1000);
      await r.get({ timeout: 5000 });
      expect(env.lines().filter((l) => l.startsWith('start long'))).toHaveLength(1);
    });

    it('stop() lets running tasks finish within the grace period', async () => {
      const env = await setup();
      const worker = await env.worker();
      const r = await env.tasks.slow.delay('graceful', 300);
      await waitFor(() => env.lines().some((l) => l.startsWith('start graceful')), 5000);
      await worker.stop({ graceMs: 5000 });
      expect((await r.info())!.state).toBe('SUCCESS');
      expect(worker.state).toBe('stopped');
    });

    it('stop() releases tasks that outlast the grace period back to the queue', async () => {
      const env = await setup();
      const first = await env.worker();
      const r = await env.tasks.slow.delay('released', 60_000);
      await waitFor(() => env.lines().some((l) => l.startsWith('start released')), 5000);
      await first.stop({ graceMs: 100 });
      const info = (await r.info())!;
      expect(info.state).toBe('PENDING');
      expect(info.attempts).toBe(0);
      const other = env.otherApp();
      defineConformanceTasks(other, env.log);
      const second = other.worker({ handleSignals: false, claimWaitMs: 200 });
      await second.start();
      await waitFor(() => env.lines().filter((l) => l.startsWith('start released')).length === 2, 5000, 'second start');
      expect(env.lines().filter((l) => l.startsWith('start released'))[1]).toContain('attempt=1');
      await second.stop({ graceMs: 0 });
    });
  });
}
