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
   * returns. Needs a broker with flow control, else it
   * throws ConfigError.
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
}

/** What ctx.groupSend needs of a channel layer (errand/channels' layers have it). */
export interface GroupSender {
  groupSend(group: string, message: { [key: string]: JsonValue }): Promise<void>;
}

/** Thrown by ctx.rateLimited(); the worker holds the task's rate-limit keys and puts it back. */
export class RateLimitRequest {
  constructor(readonly ms: number) {}
}

/** Thrown by ctx.retry(); the worker turns it into a retry outcome. */
export class RetryRequest {
  constructor(readonly options: RetryRequestOptions) {}
}
