import type { AsyncResult } from './async-result.js';
import type { JsonValue } from './types.js';

export interface RetryRequestOptions {
  /** Delay before the retry in ms; default: the task's backoff. */
  countdown?: number;
  /** The error to record for this attempt. */
  error?: unknown;
}

/**
 * What a task handler receives as its first argument. `Meta` is the type of
 * the progress meta: annotate the handler's ctx as `TaskContext<{ step: string }>`
 * and it flows to the browser (`watchTask<typeof task>`, `useTaskStatus<typeof task>`).
 */
export interface TaskContext<Meta extends JsonValue = JsonValue> {
  readonly id: string;
  readonly name: string;
  /** 1-based: how many times a worker has started this task, this time included. */
  readonly attempt: number;
  /** Retries so far. */
  readonly retries: number;
  /** Aborts at the time limit, on revoke, on lease loss and at shutdown; `reason` says which. */
  readonly signal: AbortSignal;
  /** Retries the task (within its retry.max), then ends this attempt: it never returns. */
  retry(options?: RetryRequestOptions): never;
  /**
   * The provider said "too many requests": ends this attempt without
   * counting it (back to PENDING, attempt unchanged, no retry used) and
   * holds the task's rate-limit keys (TaskOptions.rateLimit) for `ms`
   * broker-wide: no task holding one starts before then, in any process.
   * A task without rate limits just comes back after `ms`. It never
   * returns. Needs a broker with rate limits, else it throws ConfigError.
   */
  rateLimited(ms: number): never;
  /** Reports progress (state PROGRESS); a burst of calls is coalesced, the latest wins. */
  progress(current: number, total?: number, meta?: Meta): Promise<void>;
  /**
   * Sends a message to every member of a channel-layer group (a chat room, a
   * live chart), from the worker: needs `createApp({ channels })`, else it
   * throws ConfigError. At most once, like every group message.
   */
  groupSend(group: string, message: { [key: string]: JsonValue }): Promise<void>;
  /**
   * Enqueues a child task (as `task.applyAsync(args, options)`), once per
   * call: the n-th ctx.enqueue of a run names the same child on every run
   * of this task (its idempotency key is this task's id and n), so a
   * handler resumed after ctx.waitFor finds the children it made. Call it in
   * the same order, with the same arguments, on every run.
   */
  enqueue<A extends unknown[], R>(task: ChildTask<A, R>, args: A, options?: ChildOptions): Promise<AsyncResult<R>>;
  /**
   * A child's result, or every child's in order for a list, once they have
   * finished; TaskFailedError, TaskRevokedError or TaskNotFoundError as
   * AsyncResult.get throws them. While one is unfinished it ends this
   * attempt without holding a worker slot: the task goes back to PENDING
   * (the attempt not counted, progress set to children done of all) and
   * runs again, from the start, as soon as the last child finishes (or after
   * `recheckMs` as a safety net). Code before it runs again: keep it
   * idempotent. It never returns on that path. Needs a broker with wake.
   */
  waitFor<R>(handle: AsyncResult<R>, options?: WaitForOptions): Promise<R>;
  waitFor<R>(handles: ReadonlyArray<AsyncResult<R>>, options?: WaitForOptions): Promise<R[]>;
}

/** A task ctx.enqueue can enqueue (what app.task returns); only its name is read. */
export interface ChildTask<A extends unknown[], R> {
  readonly name: string;
  readonly '~types'?: { readonly args: A; readonly result: R };
}

/** The enqueue options of a child task (ApplyOptions without the key, callback and db it cannot take). */
export interface ChildOptions {
  countdown?: number;
  eta?: Date | number;
  queue?: string;
  priority?: number;
  expires?: number | Date;
  tags?: readonly string[];
}

export interface WaitForOptions {
  /** How long a waiting task stays put if no child's end wakes it: it then runs again and looks (default 60000 ms). */
  recheckMs?: number;
  /** Report children done of all as the task's progress while it waits (default true). */
  progress?: boolean;
}

/** What ctx.enqueue needs of the app (createApp provides it). */
export interface ChildEnqueuer {
  enqueue(parentId: string, index: number, name: string, args: unknown[], options: ChildOptions): Promise<AsyncResult<unknown>>;
}

/** What ctx.groupSend needs of a channel layer (errand/channels' layers have it). */
export interface GroupSender {
  groupSend(group: string, message: { [key: string]: JsonValue }): Promise<void>;
}

/** Thrown by ctx.waitFor() while a child is unfinished; the worker puts the task back until they are. */
export class WaitRequest {
  constructor(
    readonly childIds: readonly string[],
    readonly recheckMs: number,
  ) {}
}

/** Thrown by ctx.rateLimited(); the worker holds the task's rate-limit keys and puts it back. */
export class RateLimitRequest {
  constructor(readonly ms: number) {}
}

/** Thrown by ctx.retry(); the worker turns it into a retry outcome. */
export class RetryRequest {
  constructor(readonly options: RetryRequestOptions) {}
}
