import { describe, expect, it } from 'vitest';
import { TaskFailedError, TimeoutError } from '../../../src/index.js';
import type { Setup } from '../seam.js';

/** The timeout option: an attempt fails at its time limit, and may be retried. */
export function describeTimeLimits(setup: Setup): void {
  describe('time limits', () => {
    it('fails an attempt at its timeout without waiting for a handler that ignores the signal', async () => {
      const env = await setup();
      let aborted: unknown;
      const stuck = env.app.task(
        'conf.stuck',
        (ctx) => {
          ctx.signal.addEventListener('abort', () => (aborted = ctx.signal.reason));
          return new Promise(() => {}); // never settles
        },
        { timeout: 200 },
      );
      await env.worker();
      const r = await stuck.delay();
      const error = (await r.get({ timeout: 5000 }).catch((x: unknown) => x)) as TaskFailedError;
      expect(error).toBeInstanceOf(TaskFailedError);
      expect(error.error.type).toBe('TimeoutError');
      expect(aborted).toBeInstanceOf(TimeoutError);
    });

    it('retries a timed-out attempt when retry.on includes TimeoutError', async () => {
      const env = await setup();
      const slowFirst = env.app.task(
        'conf.slowfirst',
        async (ctx) => {
          if (ctx.attempt === 1) await new Promise((r) => setTimeout(r, 1000));
          return ctx.attempt;
        },
        { timeout: 150, retry: { on: [TimeoutError], max: 1, backoff: { base: 10 } } },
      );
      await env.worker();
      const r = await slowFirst.delay();
      expect(await r.get({ timeout: 5000 })).toBe(2);
    });
  });
}
