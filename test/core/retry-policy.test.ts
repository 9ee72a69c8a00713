import { describe, expect, it } from 'vitest';
import { createRetryPolicy } from '../../src/core/retry-policy.js';
import { ConfigError } from '../../src/index.js';
import { createTestApp } from '../../src/testing/index.js';

class ProviderError extends Error {}

describe('retry policy', () => {
  it('doubles the delay from base up to cap without jitter', () => {
    const policy = createRetryPolicy({ backoff: { base: 1000, cap: 5000, jitter: 'none' } });
    expect([1, 2, 3, 4, 5].map((n) => policy.delayMs(n))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(policy.delayMs(5000)).toBe(5000);
  });

  it('full jitter draws between 0 and the computed delay', () => {
    expect(createRetryPolicy({ backoff: { base: 1000 } }, () => 0.5).delayMs(3)).toBe(2000);
    expect(createRetryPolicy({ backoff: { base: 1000 } }, () => 0).delayMs(3)).toBe(0);
    const policy = createRetryPolicy({ backoff: { base: 100, cap: 1000 } });
    for (let i = 0; i < 200; i++) {
      const d = policy.delayMs(4);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(800);
    }
  });

  it('matches error classes (subclasses too) or a predicate', () => {
    class Sub extends ProviderError {}
    const byClass = createRetryPolicy({ on: [ProviderError] });
    expect(byClass.matches(new Sub())).toBe(true);
    expect(byClass.matches(new TypeError())).toBe(false);
    const byPredicate = createRetryPolicy({ on: (e) => (e as Error).message === 'again' });
    expect(byPredicate.matches(new Error('again'))).toBe(true);
    expect(createRetryPolicy().matches(new ProviderError())).toBe(false);
  });

  it('retry: { max } without `on` retries every error; without max, only ctx.retry() retries', () => {
    const anyError = createRetryPolicy({ max: 3 });
    expect(anyError.max).toBe(3);
    for (const error of [new Error('x'), new TypeError('y'), new ProviderError(), 'a string']) {
      expect(anyError.matches(error)).toBe(true);
    }
    expect(createRetryPolicy({ max: 0 }).matches(new Error())).toBe(true); // matches, but no retries are left
    expect(createRetryPolicy({ max: 2, on: [ProviderError] }).matches(new TypeError())).toBe(false);
    expect(createRetryPolicy({}).matches(new Error())).toBe(false);
    expect(createRetryPolicy({ backoff: { base: 10 } }).matches(new Error())).toBe(false);
    expect(createRetryPolicy({ max: undefined }).matches(new Error())).toBe(false);
    expect(() => createRetryPolicy({ on: ProviderError as never })).toThrow(ConfigError);
  });

  it('a task with retry: { max: 3 } and no `on` runs 4 times on an error, then fails with it', async () => {
    const t = createTestApp({ mode: 'manual' });
    try {
      let calls = 0;
      const task = t.app.task(
        'always.fails',
        () => {
          calls++;
          throw new TypeError(`call ${calls}`);
        },
        { retry: { max: 3, backoff: { base: 1000, jitter: 'none' } } },
      );
      const r = await task.delay();
      await t.drain({ advance: true });
      expect(calls).toBe(4);
      expect(await r.info()).toMatchObject({ state: 'FAILURE', retries: 3, error: { type: 'TypeError', message: 'call 4' } });
      const plain = t.app.task('no.retry.option', () => {
        throw new TypeError('once');
      });
      await plain.delay();
      await t.drain({ advance: true });
      expect(t.resultsOf('no.retry.option')).toMatchObject([{ state: 'FAILURE', attempts: 1 }]);
    } finally {
      await t.close();
    }
  });

  it('defaults to 3 retries and refuses nonsense', () => {
    expect(createRetryPolicy().max).toBe(3);
    expect(() => createRetryPolicy({ max: -1 })).toThrow(ConfigError);
    expect(() => createRetryPolicy({ max: 1.5 })).toThrow(ConfigError);
  });
});
