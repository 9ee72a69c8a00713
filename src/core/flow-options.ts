// The flow-control options of a task and their checked form; apart from task.ts and flow-control.ts so neither imports the other.

/** One concurrency limit of a task (TaskOptions.concurrency). */
export interface ConcurrencyOption {
  /** How many may run at once (an integer >= 1). */
  limit: number;
  /** The key the limit counts per, from the task's arguments (1 to 200 characters with the task name). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- called with the task's own arguments
  key?: (...args: any[]) => string;
}

/** One rate limit of a task (TaskOptions.rateLimit). */
export interface RateLimitOption {
  /** How many may start in any window of `per` ms (an integer >= 1). */
  limit: number;
  /** The window in ms (an integer >= 1). */
  per: number;
  /** The key the limit counts per, from the task's arguments (1 to 200 characters with 'rate:' and the task name). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- called with the task's own arguments
  key?: (...args: any[]) => string;
}

/** How a task's fairness group is computed (TaskOptions.fairness). */
export interface FairnessOption {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- called with the task's own arguments
  key: (...args: any[]) => string;
}

/**
 * Calls folded into one run (TaskOptions.debounce): while a call's task
 * waits, further calls with the same key move it to `delay` ms after the
 * latest call and hand it the latest arguments, returning its id.
 */
export interface DebounceOption {
  /** How long (ms, an integer >= 0) after the latest call of a burst the task runs. */
  delay: number;
  /** The latest it runs, in ms after the burst's first call (an integer >= delay; default: no cap): a steady stream of calls still runs. */
  maxDelay?: number;
  /** Whose arguments the run gets: the latest call's ('last', the default) or the first's. */
  keep?: 'last' | 'first';
  /** The key calls are folded per, from the task's arguments (default: one key for the task name). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- called with the task's own arguments
  key?: (...args: any[]) => string;
}

/**
 * At most one run per window (TaskOptions.throttle): the first call runs at
 * once; calls within `per` ms of that run fold into one run at the window's
 * end, with the latest arguments.
 */
export interface ThrottleOption {
  /** The window in ms (an integer >= 1). */
  per: number;
  /** The key the window counts per, from the task's arguments (default: the task name). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- called with the task's own arguments
  key?: (...args: any[]) => string;
}

/** A key function as flow-control calls it. */
export type KeyFn = (...args: unknown[]) => unknown;

/**
 * A task's checked concurrency, rate-limit, fairness, debounce and throttle
 * options: what enqueue turns into NewTask.limits, rateLimits, group and
 * debounce. A throttle is a rate limit of 1 per window (scope 'throttle')
 * and a debounce without delay (scope 'throttle').
 */
export interface FlowControl {
  readonly name: string;
  readonly limits: ReadonlyArray<{ limit: number; key?: KeyFn }>;
  readonly rateLimits: ReadonlyArray<{ limit: number; perMs: number; key?: KeyFn; scope: 'rate' | 'throttle' }>;
  readonly fairness?: KeyFn;
  readonly debounce?: {
    readonly delayMs: number;
    readonly maxDelayMs?: number;
    readonly replace: boolean;
    readonly key?: KeyFn;
    readonly scope: 'debounce' | 'throttle';
  };
}
