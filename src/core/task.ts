import type { TaskContext } from './context.js';
import type { AsyncResult } from './async-result.js';
import type { RetryOptions, RetryPolicy } from './retry-policy.js';

export type TaskHandler<A extends unknown[], R> = (ctx: TaskContext, ...args: A) => R | Promise<R>;

export interface TaskOptions {
  /** Queue the task goes to unless applyAsync says otherwise (default 'default'). */
  queue?: string;
  /** Time limit of one attempt in ms (default: none). */
  timeout?: number;
  retry?: RetryOptions;
  /** How many times a task may be redelivered after its worker died, beyond its retries (default 5). */
  maxRedeliveries?: number;
}

export interface ApplyOptions {
  /** Run no sooner than this many ms from now. */
  countdown?: number;
  /** Run no sooner than this time. */
  eta?: Date | number;
  /** While a task with this key is known, return its id and enqueue nothing. */
  idempotencyKey?: string;
  queue?: string;
  /** Not started by then (ms from now, or a time): REVOKED instead of run. */
  expires?: number | Date;
}

/** A registered task: what a worker runs and what producers enqueue. */
export interface Task<A extends unknown[], R> {
  readonly name: string;
  /** Enqueues the task with these arguments; resolves once it is durably stored. */
  delay(...args: A): Promise<AsyncResult<R>>;
  /** Enqueues with options: countdown, eta, idempotencyKey, queue, expires. */
  applyAsync(args: A, options?: ApplyOptions): Promise<AsyncResult<R>>;
}

/** What the worker needs to run a task; internal to the engine. */
export interface TaskDefinition {
  readonly name: string;
  readonly handler: TaskHandler<unknown[], unknown>;
  readonly queue: string;
  readonly timeoutMs?: number;
  readonly retry: RetryPolicy;
  readonly maxRedeliveries: number;
}
