import { ConfigError } from './errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

export interface BackoffOptions {
  /** First delay in ms (default 1000). */
  base?: number;
  /** Largest delay in ms (default 600000). */
  cap?: number;
  /** 'full': a random delay between 0 and the computed one (default); 'none': exactly the computed one. */
  jitter?: 'full' | 'none';
}

export interface RetryOptions {
  /**
   * Which errors retry: error classes (subclasses match too), or a predicate.
   * Default: every error when `max` is given (`retry: { max: 3 }` retries
   * whatever the handler throws), else none (only ctx.retry() retries).
   */
  on?: ErrorClass[] | ((error: unknown) => boolean);
  /** How many retries at most (default 3); giving it without `on` retries every error. */
  max?: number;
  backoff?: BackoffOptions;
}

/** A retry policy, resolved from options once at task registration. */
export interface RetryPolicy {
  readonly max: number;
  /** True when `error` is one the task retries on. */
  matches(error: unknown): boolean;
  /** Delay before retry number `retry` (1-based), in ms. */
  delayMs(retry: number): number;
}

export function createRetryPolicy(options: RetryOptions = {}, random: () => number = Math.random): RetryPolicy {
  const max = options.max ?? 3;
  const base = options.backoff?.base ?? 1000;
  const cap = options.backoff?.cap ?? 600_000;
  const jitter = options.backoff?.jitter ?? 'full';
  if (!Number.isInteger(max) || max < 0) throw new ConfigError(`retry.max must be a whole number >= 0, got ${max}`);
  if (!(base >= 0) || !(cap >= 0)) throw new ConfigError('retry.backoff base and cap must be >= 0');
  const on = options.on;
  if (on !== undefined && typeof on !== 'function' && !Array.isArray(on)) {
    throw new ConfigError('retry.on must be an array of error classes or a predicate');
  }
  const proto = typeof on === 'function' ? (on as { prototype?: unknown }).prototype : undefined;
  if (typeof on === 'function' && (proto === Error.prototype || proto instanceof Error)) {
    throw new ConfigError(`retry.on takes an array of error classes: write on: [${on.name}]`);
  }
  const matches =
    on === undefined
      ? options.max !== undefined
        ? () => true
        : () => false
      : typeof on === 'function'
        ? on
        : (error: unknown) => on.some((cls) => error instanceof cls);
  return {
    max,
    matches,
    delayMs(retry: number): number {
      // 2 ** (retry - 1) overflows to Infinity long before it matters; min() caps it.
      const computed = Math.min(cap, base * 2 ** Math.max(0, retry - 1));
      return jitter === 'full' ? Math.floor(random() * computed) : computed;
    },
  };
}
