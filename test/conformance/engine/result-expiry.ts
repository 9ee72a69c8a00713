import { describe, expect, it } from 'vitest';
import { delay } from '../../support/wait.js';
import type { Setup } from '../seam.js';

/** resultTtlMs: finished tasks are forgotten. */
export function describeResultExpiry(setup: Setup): void {
  describe('result expiry', () => {
    it('forgets finished tasks after resultTtlMs, so storage stays bounded', async () => {
      const env = await setup({ resultTtlMs: 300 });
      await env.worker();
      const r = await env.tasks.add.delay(1, 1);
      await r.get({ timeout: 5000 });
      expect(await r.info()).not.toBeNull();
      const keyed = await env.tasks.add.applyAsync([2, 2], { idempotencyKey: 'k' });
      await keyed.get({ timeout: 5000 });
      await delay(600);
      expect(await r.info()).toBeNull();
      // Forgotten everywhere before prune() runs: the key is free again, revoke finds nothing.
      const again = await env.tasks.add.applyAsync([1, 1], { idempotencyKey: 'k' });
      expect(again.id).not.toBe(keyed.id);
      await expect(r.revoke()).rejects.toThrow(/no task/);
      await env.app.backend.prune();
      expect(await r.info()).toBeNull();
      expect((await again.info())?.state).toBeDefined();
    });
  });
}
