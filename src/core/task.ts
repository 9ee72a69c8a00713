import type { TaskContext } from './context.js';
import type { AgingOption } from './aging.js';
import type { Aging } from './backend.js';
import type { AsyncResult } from './async-result.js';
import type {
  ConcurrencyOption,
  DebounceOption,
  FairnessOption,
  FlowControl,
  RateLimitOption,
  ThrottleOption,
} from './flow-options.js';

export type { ConcurrencyOption, DebounceOption, FairnessOption, RateLimitOption, ThrottleOption };
import type { RetryOptions, RetryPolicy } from './retry-policy.js';
import type { JsonValue } from './types.js';
import type { MemberOptions, Signature } from './workflows/signature.js';

/** `M` is the progress meta type, inferred from the ctx annotation (`ctx: TaskContext<{ step: string }>`). */
export type TaskHandler<A extends unknown[], R, M extends JsonValue = JsonValue> = (
  ctx: TaskContext<M>,
  ...args: A
) => R | Promise<R>;

export interface TaskOptions {
  /** Queue the task goes to unless applyAsync says otherwise (default 'default'). */
  queue?: string;
  /** Within its queue, higher runs first (an integer from -1000 to 1000, default 0); applyAsync may override. */
  priority?: number;
  /**
   * Priority aging: while a task waits due, its priority rises by `step`
   * (default 1) every `every` ms, up to `max` (default 1000), so a stream of
   * higher-priority work cannot starve it. Not with concurrency, fairness,
   * rateLimit or throttle. See docs/tasks.md, "Priorities".
   */
  aging?: AgingOption;
  /**
   * At most `limit` of these tasks run at once anywhere on the broker:
   * without `key` for the task name, with it per `key(...args)` (say, per
   * user). Several entries (up to 4) all apply, e.g. per key and in total.
   * Needs a broker with flow control. See docs/tasks.md,
   * "Concurrency limits and fair scheduling".
   */
  concurrency?: ConcurrencyOption | readonly ConcurrencyOption[];
  /**
   * At most `limit` of these tasks are started in any `per` ms anywhere on
   * the broker (a sliding window): without `key` for the task name, with it
   * per `key(...args)`. Several entries (up to 4) all apply, e.g. 5 per
   * second and 100 per minute. Needs a broker with rate limits (all four).
   * See docs/tasks.md, "Rate limits".
   */
  rateLimit?: RateLimitOption | readonly RateLimitOption[];
  /**
   * The fairness group of a task, from its arguments: within a queue and
   * priority, groups take turns. Default: the first keyed concurrency
   * entry's key, else the first keyed rate limit's.
   */
  fairness?: FairnessOption;
  /**
   * Fold a burst of calls into one run, `delay` ms after the latest (at most
   * `maxDelay` after the first), with the latest arguments; every call of
   * the burst returns the same id. Per `key(...args)` when given. Not with
   * idempotency keys, countdown or eta. See docs/tasks.md, "Debounce and throttle".
   */
  debounce?: DebounceOption;
  /**
   * At most one run per `per` ms (per `key(...args)` when given): the first
   * call runs at once, later calls within the window fold into one run at
   * its end with the latest arguments. See docs/tasks.md, "Debounce and throttle".
   */
  throttle?: ThrottleOption;
  /** Time limit of one attempt in ms (default: none). */
  timeout?: number;
  retry?: RetryOptions;
  /** How many times a task may be redelivered after its worker died, beyond its retries (default 5). */
  maxRedeliveries?: number;
  /** What to do when an idempotency key is reused with other arguments (default: the app's, else 'warn'). */
  idempotency?: IdempotencyOptions;
  /**
   * Run the handler in a worker thread or a child process, given by module
   * path in place of the handler function: at the time limit (`timeout`)
   * the thread or process is killed, so a handler that ignores its signal
   * (a CPU-bound loop) ends too. See docs/tasks.md, "Isolated handlers".
   */
  isolate?: 'thread' | 'process';
  /** With isolate: when the handler's signal aborts, before `timeout` kills it (Celery's soft limit). */
  softTimeout?: number;
  /** With isolate: the module's export that is the handler (default 'default'). */
  export?: string;
}

export interface IdempotencyOptions {
  /**
   * A key that matches a known task enqueued with another name or other
   * arguments: 'warn' logs a warning and returns the known task's id (as a
   * plain duplicate does); 'error' throws IdempotencyConflictError.
   */
  onConflict?: 'warn' | 'error';
}

export interface ApplyOptions {
  /** Run no sooner than this many ms from now. */
  countdown?: number;
  /** Run no sooner than this time. */
  eta?: Date | number;
  /** While a task with this key is known, return its id and enqueue nothing. */
  idempotencyKey?: string;
  queue?: string;
  /** Overrides the task's priority (an integer from -1000 to 1000; higher runs first). */
  priority?: number;
  /** Not started by then (ms from now, or a time): REVOKED instead of run. */
  expires?: number | Date;
  /** Overrides the task's and the app's idempotency options for this call. */
  idempotency?: IdempotencyOptions;
  /**
   * Labels (1 to 16, each 1 to 128 characters) whose tag feeds list the task,
   * e.g. ['user:42']: app.watchTag and errand/web's feed routes follow every
   * task of a tag (see docs/status.md).
   */
  tags?: readonly string[];
  /**
   * Enqueue inside your own database transaction (PostgreSQL broker: a pg
   * Client or PoolClient on which you ran BEGIN): a rollback means the task
   * never existed, a commit makes it visible to workers at once. Other
   * brokers refuse it with ConfigError. See docs/brokers.md.
   */
  db?: unknown;
  /**
   * Where to POST the task's outcome when it ends, signed (Standard
   * Webhooks) and retried until a 2xx; see docs/callbacks.md.
   */
  callback?: CallbackTarget;
}

/** An endpoint callback: the URL errand POSTs the outcome to, and the secret it signs with. */
export interface CallbackTarget {
  /** An http(s) URL; private, loopback and link-local addresses are refused unless the app allows them. */
  url: string;
  /** A Standard Webhooks secret ('whsec_…' base64, or any string); default: the app's callbacks.secret. */
  secret?: string;
}

/** One item of applyAsyncMany. */
export interface BulkItem<A extends unknown[]> {
  args: A;
  options?: ApplyOptions;
}

/** One item of app.sendTaskMany. */
export interface SendItem {
  name: string;
  args: unknown[];
  options?: ApplyOptions;
}

/**
 * The types a task carries for other code to read (`typeof task`), such as
 * errand/client's `watchTask<typeof task>`. Type-only: no such value exists.
 */
export interface TaskTypes<A extends unknown[], R, M> {
  readonly args: A;
  readonly result: R;
  readonly progress: M;
}

/** A registered task: what a worker runs and what producers enqueue. `M` is its progress meta type. */
export interface Task<A extends unknown[], R, M extends JsonValue = JsonValue> {
  readonly name: string;
  /** The queue it goes to unless applyAsync says otherwise (TaskOptions.queue, else 'default'). */
  readonly queue: string;
  /** Type-only (always undefined at run time): the argument, result and progress meta types. */
  readonly '~types'?: TaskTypes<A, R, M>;
  /** Enqueues the task with these arguments; resolves once it is durably stored. */
  delay(...args: A): Promise<AsyncResult<R>>;
  /** Enqueues with options: countdown, eta, idempotencyKey, queue, expires. */
  applyAsync(args: A, options?: ApplyOptions): Promise<AsyncResult<R>>;
  /**
   * Enqueues one task per argument list in one round trip (one transaction),
   * results in order. Every item is checked before anything is stored: a bad
   * one throws (naming its index) and stores nothing.
   */
  delayMany(argsList: readonly A[]): Promise<Array<AsyncResult<R>>>;
  /** delayMany with options per item. */
  applyAsyncMany(items: ReadonlyArray<BulkItem<A>>): Promise<Array<AsyncResult<R>>>;
  /**
   * A signature for a workflow (app.chain, app.group, app.chord): the task
   * with these arguments; a chain step or chord callback gets the previous
   * result (the results) in front of them.
   */
  s(...args: unknown[]): Signature<R>;
  /** A signature with enqueue options (queue, countdown, eta, expires, tags). */
  signature(args: unknown[], options?: MemberOptions): Signature<R>;
}

/** What the worker needs to run a task; internal to the engine. */
export interface TaskDefinition {
  readonly name: string;
  readonly handler: TaskHandler<unknown[], unknown>;
  readonly queue: string;
  readonly priority?: number;
  readonly timeoutMs?: number;
  readonly retry: RetryPolicy;
  readonly maxRedeliveries: number;
  readonly idempotency?: IdempotencyOptions;
  /** Concurrency limits, rate limits, fairness, debounce and throttle, checked (undefined when the task has none). */
  readonly flow?: FlowControl;
  /** Priority aging, checked (NewTask.aging). */
  readonly aging?: Aging;
}
