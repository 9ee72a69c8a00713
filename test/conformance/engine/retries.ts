import { describe, expect, it } from 'vitest';
import { TaskFailedError } from '../../../src/index.js';
import { FlakyError } from '../tasks.js';
import type { Setup } from '../seam.js';

/** retry options and ctx.retry(): backoff, max, matching errors. */
export function describeRetries(setup: Setup): void {
  describe('retries', () => {
    it('retries a matching error with exponential backoff, then succeeds', async () => {
      const env = await setup();
      const starts: number[] = [];
      const flaky = env.app.task(
        'conf.flaky',
        async (ctx) => {
          starts.push(Date.now());
          if (ctx.attempt < 3) throw new FlakyError(`attempt ${ctx.attempt}`);
          return ctx.attempt;
        },
        { retry: { on: [FlakyError], max: 5, backoff: { base: 100, jitter: 'none' } } },
      );
      const r = await flaky.delay();
      const states: string[] = [];
      const watching = (async () => {
        for await (const info of env.app.watch(r.id)) states.push(info.state);
      })();
      await env.worker();
      expect(await r.get({ timeout: 5000 })).toBe(3);
      await watching;
      expect(states).toContain('RETRY');
      expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(100);
      expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(200);
      expect((await r.info())!).toMatchObject({ attempts: 3, retries: 2 });
    });

    it('fails with the last error after max retries', async () => {
      const env = await setup();
      let calls = 0;
      const always = env.app.task(
        'conf.always',
        async () => {
          calls++;
          throw new FlakyError(`boom ${calls}`);
        },
        { retry: { on: (e) => e instanceof FlakyError, max: 2, backoff: { base: 10 } } },
      );
      await env.worker();
      const r = await always.delay();
      const error = await r.get({ timeout: 5000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskFailedError);
      expect((error as TaskFailedError).error).toEqual({ type: 'FlakyError', message: 'boom 3' });
      expect(calls).toBe(3);
      expect((await r.info())!.state).toBe('FAILURE');
    });

    it('fails at once on an error that does not match', async () => {
      const env = await setup();
      let calls = 0;
      const wrong = env.app.task(
        'conf.wrong',
        async () => {
          calls++;
          throw new TypeError('not retryable');
        },
        { retry: { on: [FlakyError], max: 5 } },
      );
      await env.worker();
      const r = await wrong.delay();
      await expect(r.get({ timeout: 5000 })).rejects.toBeInstanceOf(TaskFailedError);
      expect(calls).toBe(1);
      expect((await r.info())!.error).toEqual({ type: 'TypeError', message: 'not retryable' });
    });

    it('ctx.retry() retries on demand with its countdown, within retry.max', async () => {
      const env = await setup();
      const starts: number[] = [];
      const manual = env.app.task(
        'conf.manual',
        async (ctx) => {
          starts.push(Date.now());
          if (ctx.retries < 1) ctx.retry({ countdown: 150, error: new FlakyError('later') });
          return 'ok';
        },
        { retry: { max: 1 } },
      );
      await env.worker();
      const r = await manual.delay();
      expect(await r.get({ timeout: 5000 })).toBe('ok');
      expect(starts).toHaveLength(2);
      expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(150);

      const exhausted = env.app.task('conf.exhausted', async (ctx) => ctx.retry({ countdown: 1 }), { retry: { max: 1 } });
      const e = await exhausted.delay();
      const error = (await e.get({ timeout: 5000 }).catch((x: unknown) => x)) as TaskFailedError;
      expect(error.error.type).toBe('MaxRetriesExceededError');
    });
  });
}
