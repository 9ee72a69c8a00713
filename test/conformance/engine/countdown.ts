import { describe, expect, it } from 'vitest';
import { delay } from '../../support/wait.js';
import type { Setup } from '../seam.js';

/** countdown and eta: never early, once. */
export function describeCountdown(setup: Setup): void {
  describe('countdown and ETA', () => {
    it('never runs a countdown task early, and runs it once', async () => {
      const env = await setup();
      await env.worker();
      const r = await env.tasks.record.applyAsync(['late'], { countdown: 400 });
      const e = await env.tasks.record.applyAsync(['eta'], { eta: new Date(Date.now() + 400) });
      await delay(250);
      expect(env.lines()).toEqual([]);
      await Promise.all([r.get({ timeout: 5000 }), e.get({ timeout: 5000 })]);
      const info = (await r.info())!;
      expect(info.startedAt! - info.enqueuedAt).toBeGreaterThanOrEqual(400);
      await delay(300);
      expect(env.lines().filter((l) => l.startsWith('start '))).toHaveLength(2);
    });

    it('refuses countdown and eta together, and negative countdowns', async () => {
      const env = await setup();
      await expect(env.tasks.add.applyAsync([1, 2], { countdown: 1, eta: Date.now() })).rejects.toThrow(/countdown or eta/);
      await expect(env.tasks.add.applyAsync([1, 2], { countdown: -5 })).rejects.toThrow(/countdown/);
    });
  });
}
