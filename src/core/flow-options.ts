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

/** A key function as flow-control calls it. */
export type KeyFn = (...args: unknown[]) => unknown;

/** A task's checked concurrency, rate-limit and fairness options: what enqueue turns into NewTask.limits, rateLimits and group. */
export interface FlowControl {
  readonly name: string;
  readonly limits: ReadonlyArray<{ limit: number; key?: KeyFn }>;
  readonly rateLimits: ReadonlyArray<{ limit: number; perMs: number; key?: KeyFn }>;
  readonly fairness?: KeyFn;
}
