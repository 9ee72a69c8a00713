import { describe, expect, it } from 'vitest';
import { delay } from '../../support/wait.js';
import type { Setup } from '../seam.js';

/** An idle worker is woken by a push. */
export function describePickup(setup: Setup): void {
  describe('pickup', () => {
    it('an idle worker is woken by an enqueue, not by its claim timeout', async () => {
      const env = await setup();
      await env.worker({ claimWaitMs: 10_000 });
      await delay(100); // let the worker settle into its wait
      const started = Date.now();
      const r = await env.otherApp().sendTask('conf.add', [1, 2]);
      await r.get({ timeout: 5000 });
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });
}
