import type { BackendAdmin } from './admin/admin-backend.js';
import type { DeadLetter, TaskErrorInfo, TaskInfo, TaskProgress } from './types.js';

/**
 * The seam between the engine and storage. Adapters (memory, sqlite, redis,
 * postgres) implement it; the conformance suite in test/conformance pins its semantics.
 *
 * Rules every adapter keeps:
 * - Each state transition bumps the task's `version` and publishes the new
 *   TaskInfo to status subscribers of that id, atomically with the write
 *   (a subscriber that then reads the snapshot never misses the terminal state).
 * - Worker-side transitions (progress, complete, fail, retryLater, release,
 *   deadLetter) take the ClaimedTask they act on and resolve true when
 *   recorded, false when that delivery is stale: the task was revoked,
 *   finished, or its lease expired and another delivery exists. They return
 *   no TaskInfo: the engine does not need one, and building it costs on the
 *   hot path (subscribers get theirs through the status event).
 * - Tasks whose runAt is in the future are never handed out before it.
 * - A finished task whose result expired is unknown everywhere (getInfo,
 *   revoke, idempotency keys) even before prune() deletes it.
 * - After close(), every method throws ClosedError.
 */
export interface Backend {
  /** Short name: 'memory', 'sqlite', 'redis', 'postgres'. */
  readonly kind: string;
  readonly capabilities: BackendCapabilities;

  /**
   * Stores a new task durably (state PENDING, version 1); a duplicate id is a
   * BrokerError. With `context.db` (capabilities.transactionalEnqueue), the
   * task is written through the caller's own database client, inside the
   * caller's open transaction: a rollback means it never existed, a commit
   * makes it visible (and wakes workers) at once. Other brokers throw
   * ConfigError for a `db`.
   */
  enqueue(task: NewTask, context?: EnqueueContext): Promise<EnqueueOutcome>;
  /**
   * Same as enqueue for many tasks, outcomes in order: one round trip or
   * transaction per batch (Redis: one script call per 1000 tasks, each
   * atomic). Idempotency keys apply within the batch too: a later item with
   * an earlier item's key gets that item's id.
   */
  enqueueMany(tasks: NewTask[]): Promise<EnqueueOutcome[]>;

  /**
   * Leases up to `limit` due tasks from `queues` (state STARTED, attempts + 1),
   * taking the queues in the order listed (a priority) and each in due order.
   * When none is due, waits up to `waitMs` for one (woken by a push, not a slow
   * poll), or until `signal` aborts; then returns what it has, maybe nothing.
   * Tasks whose `expiresAt` has passed are not handed out: they end REVOKED.
   */
  claim(request: ClaimRequest): Promise<ClaimedTask[]>;
  /** Renews leases; returns the ids whose lease is lost (revoked, finished or taken over). */
  extendLeases(deliveries: readonly Delivery[], leaseMs: number): Promise<string[]>;

  recordProgress(task: ClaimedTask, progress: TaskProgress): Promise<boolean>;
  /**
   * SUCCESS; `resultJson` is the encoded result. Unlike the other
   * transitions, a success also counts from an earlier delivery (its lease
   * expired and the task was queued or given out again) as long as the task
   * has not finished: the first finisher wins, once. A later live delivery
   * is then stale and learns it from extendLeases.
   */
  complete(task: ClaimedTask, resultJson: string): Promise<boolean>;
  /** FAILURE. */
  fail(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean>;
  /** RETRY: due again at `runAt`, retries + 1. */
  retryLater(task: ClaimedTask, error: TaskErrorInfo, runAt: number): Promise<boolean>;
  /**
   * Graceful stop, or a wait (ctx.waitFor): back to PENDING, due now or at
   * `runAt`; the attempt does not count. Nothing else is held.
   */
  release(task: ClaimedTask, runAt?: number): Promise<boolean>;
  /**
   * A waiting task (PENDING or RETRY) due later becomes due now, as if
   * enqueued now (version + 1, published, its queue's claimers woken): a
   * task waiting for its children is resumed when the last one finishes.
   * False when the task is unknown, not waiting, or due already. Optional:
   * brokers with capabilities.wake have it.
   */
  wake?(id: string): Promise<boolean>;
  /** FAILURE, and the message is kept in the dead-letter store. */
  deadLetter(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean>;
  /**
   * A held rate limit (ctx.rateLimited, BullMQ's manual rate limit): in one
   * atomic step, the task goes back to PENDING as release() does (the
   * attempt does not count) and every key of its NewTask.rateLimits is
   * blocked until `untilMs` broker-wide, in every process: no task holding
   * one is handed out before then (a later hold extends it, an earlier one
   * does not shorten it). A task without rate limits is due again at
   * `untilMs` instead. False for a stale delivery (nothing is held).
   * Optional: brokers with capabilities.rateLimits have it (all four of
   * errand's); the engine refuses ctx.rateLimited on others with a ConfigError.
   */
  holdRateLimit?(task: ClaimedTask, untilMs: number): Promise<boolean>;

  /**
   * REVOKED: a pending task will never run; a running one is told through
   * subscribeRevocations. Returns null for an unknown id; a finished task is
   * returned unchanged.
   */
  revoke(id: string): Promise<TaskInfo | null>;

  /**
   * How many tasks of `queue` wait to be claimed: PENDING or RETRY, due or
   * not (for back-pressure, such as a webhook receiver's maxQueueDepth).
   * Redis may count, until a claim drops it, a task revoked while it waited
   * in the ready list: an upper bound, never an undercount.
   */
  countWaiting(queue: string): Promise<number>;

  /** The status record, or null when unknown or expired. */
  getInfo(id: string): Promise<TaskInfo | null>;

  /**
   * The tag feed: tasks carrying `tag` that changed after cursor `after`
   * (0: from the first kept), oldest change first, at most `limit`. Each
   * task appears once, with its latest TaskInfo and the cursor of that
   * change; cursors of one tag only grow, and a change's cursor is the same
   * here and in subscribeTag. Expired tasks are left out. A page that ends
   * before the newest change has `more: true`.
   */
  readTagFeed(tag: string, after: number, limit: number): Promise<TagFeedPage>;
  /**
   * Calls `listener` with every later change of a task carrying `tag`, in
   * cursor order (a listener that has heard cursor c never hears a smaller
   * one later, so resuming a feed from c misses nothing). Resolves once listening.
   */
  subscribeTag(tag: string, listener: (entry: TagFeedEntry) => void): Promise<Unsubscribe>;
  listDeadLetters(limit: number): Promise<DeadLetter[]>;

  /** Puts tasks whose lease expired (their worker died) back in their queue. Returns how many. */
  rescueExpired(): Promise<number>;
  /** Deletes finished tasks whose result expired. Returns how many. */
  prune(): Promise<number>;
  /**
   * Priority aging (NewTask.aging): every waiting task (PENDING or RETRY)
   * with aging whose next raise time has come is raised as ageStep()
   * computes, at most 1000 per call, and takes its place in its new
   * priority (where within it is the broker's). Running and finished tasks
   * are not raised; a retried or released task keeps the priority it
   * reached. Returns how many were raised. Workers call it on a timer.
   * Optional: brokers with capabilities.aging have it.
   */
  agePriorities?(): Promise<number>;

  /** Calls `listener` with every later TaskInfo of `id`. Resolves once listening. */
  subscribeStatus(id: string, listener: (info: TaskInfo) => void): Promise<Unsubscribe>;
  /** Calls `listener` with the id of every task revoked from now on. */
  subscribeRevocations(listener: (id: string) => void): Promise<Unsubscribe>;

  /** The operations half: queries, operator actions, bookkeeping (see BackendAdmin). */
  readonly admin: BackendAdmin;

  /**
   * How another thread opens its own connection to the same broker (the
   * worker renews leases from a thread, so a busy event loop cannot lose
   * them). Undefined when the broker cannot be shared (memory).
   */
  readonly spec?: BackendSpec;

  close(): Promise<void>;
}

/** A broker another thread can open: `openBackend(options)` exported by `module`. */
export interface BackendSpec {
  /** URL of an ES module exporting `openBackend(options: unknown): Backend`. */
  module: string;
  /** Structured-cloneable options for openBackend. */
  options: unknown;
}

export type Unsubscribe = () => Promise<void>;

export interface BackendCapabilities {
  /** Several processes can share the broker. */
  crossProcess: boolean;
  /** Tasks survive a restart of every process. */
  durable: boolean;
  /** enqueue takes the caller's database client (EnqueueContext.db) and writes inside its transaction. */
  transactionalEnqueue?: boolean;
  /** Honours NewTask.group and NewTask.limits; the engine refuses them elsewhere. */
  flowControl?: boolean;
  /** Honours NewTask.rateLimits and has holdRateLimit; the engine refuses them elsewhere. */
  rateLimits?: boolean;
  /** Honours NewTask.debounce; the engine refuses it elsewhere. */
  debounce?: boolean;
  /** Honours NewTask.aging and has agePriorities; the engine refuses aging elsewhere. */
  aging?: boolean;
  /** Has wake (ctx.waitFor suspends a task on it; refused elsewhere). */
  wake?: boolean;
}

/** Where an enqueue writes: by default the broker's own connection. */
export interface EnqueueContext {
  /** The app's own database client (for PostgreSQL a pg Client or PoolClient) with a transaction open on it. */
  db?: unknown;
}

/** Settings every adapter receives from the app. */
export interface BackendOptions {
  /** How long finished tasks (and their idempotency keys) are kept. */
  resultTtlMs: number;
  /** How many dead letters are kept (the oldest go first). */
  deadLetterLimit: number;
}

export interface NewTask {
  id: string;
  name: string;
  queue: string;
  /** JSON-encoded argument array. */
  payload: string;
  enqueuedAt: number;
  /** Due time; at or before enqueuedAt means at once. */
  runAt: number;
  /** Not started by then: REVOKED instead of run. */
  expiresAt?: number;
  /** While a task with this key is known, enqueue returns its id and stores nothing. */
  idempotencyKey?: string;
  /**
   * Higher first within the queue, first in first out within one priority
   * (an integer from MIN_PRIORITY to MAX_PRIORITY; absent means 0). A
   * retried or released task keeps its priority.
   */
  priority?: number;
  /**
   * Fairness group within its queue (1 to 200 characters; needs
   * capabilities.flowControl). Within one priority of a queue the claim takes
   * groups round-robin: a group that just got a task goes behind the groups
   * that are waiting, so with g groups waiting a group waits at most g - 1
   * claims. Tasks without a group form one group of their own (''). Within a
   * group: due order. The rotation is the broker's, shared by every process.
   * A retried or released task keeps its group.
   */
  group?: string;
  /**
   * Concurrency limits (1 to 4, distinct keys of 1 to 200 characters, limits
   * integers >= 1; needs capabilities.flowControl): while `limit` tasks
   * holding `key` are running (STARTED or PROGRESS) anywhere on the broker,
   * no further task holding it is handed out, however many claims race for
   * the last slot. The slot frees when the task leaves the running states by
   * any path (finish, retry, release, revoke, dead letter, rescueExpired). A
   * task whose limits are full is skipped and the rest of its group waits
   * behind it (first in first out within a group), but other groups are
   * served. A retried or released task keeps its limits.
   */
  limits?: ConcurrencyLimit[];
  /**
   * Rate limits (1 to 4 entries, keys of 1 to 200 characters, limit and
   * perMs integers >= 1; needs capabilities.rateLimits): across the
   * broker, at most `limit` tasks holding `key` are handed out (claimed) in
   * any window of `perMs` ms. Enforced exactly as a sliding window (the
   * broker keeps each key's latest claim times), not GCRA: a burst of
   * `limit` then nothing until the oldest of them is `perMs` old. Entries
   * may share a key with different windows (5 per second and 100 per
   * minute): each is checked, and a claim counts once per key. A task held
   * back by a rate limit is skipped like one whose concurrency limits are
   * full (the rest of its group waits, other groups are served); a claim
   * that finds only rate-limited work waits until the earliest moment one
   * becomes claimable, not spinning. Only claims count: a task revoked or
   * expired before it started took nothing, and a retry or release takes
   * a new turn when claimed again. A retried or released task keeps its
   * rate limits. See also holdRateLimit.
   */
  rateLimits?: RateLimit[];
  /**
   * Debounce (needs capabilities.debounce; never with an idempotency key):
   * while a task holding the same key waits unstarted — PENDING and never
   * handed out (a released or rescued task has been; one run again by
   * BackendAdmin.retryTasks is no longer debounced) — enqueue stores nothing
   * and returns that task's id (created false). That task's runAt, if it is
   * not due yet, becomes this task's runAt capped at its own `maxRunAt` (a
   * due task keeps its turn); with `replace` its payload becomes this one's.
   * The change bumps its version and is published like a transition (its
   * state stays PENDING), in the same atomic step as the lookup: racing
   * enqueues of one key in several processes leave one waiting task. When no
   * such task waits, this one is stored as usual and the key names it, with
   * its `maxRunAt` (absent: no cap) for the enqueues that follow.
   */
  debounce?: Debounce;
  /**
   * Priority aging (needs capabilities.aging; never with group, limits or
   * rate limits): while the task waits due, agePriorities raises its
   * priority by `step` every `everyMs`, up to `max`. The first raise is
   * due `everyMs` after runAt.
   */
  aging?: Aging;
  /** Labels whose tag feeds list the task (TaskInfo.tags); distinct, checked by the engine. */
  tags?: string[];
  /**
   * The W3C trace context (traceparent, optionally ' ' + tracestate) of the
   * enqueuing span, at most 1024 characters: stored with the task and handed
   * back on every delivery (ClaimedTask.trace) and dead letter, so the
   * worker's spans join the producer's trace.
   */
  trace?: string;
  /**
   * A task the broker enqueues, in the same atomic step, when this one
   * reaches a terminal state (SUCCESS, FAILURE or REVOKED, however: a
   * worker, a dead letter, revoke, expiry): PENDING, due at once, once. An
   * id that already exists is left alone. Endpoint callbacks are built on it.
   */
  followUp?: FollowUp;
}

/** NewTask.aging: how a waiting task's priority rises. */
export interface Aging {
  /** An integer >= 1. */
  everyMs: number;
  /** An integer >= 1. */
  step: number;
  /** MIN_PRIORITY to MAX_PRIORITY. */
  max: number;
}

/** NewTask.debounce: which waiting task an enqueue folds into, and how. */
export interface Debounce {
  /** 1 to 200 characters. */
  key: string;
  /** The waiting task takes this enqueue's payload (the last call's arguments win); else it keeps its own. */
  replace: boolean;
  /** The latest runAt later enqueues may push the task to (a max delay); absent: no cap. */
  maxRunAt?: number;
}

/** One of NewTask.limits: at most `limit` running tasks hold `key`. */
export interface ConcurrencyLimit {
  key: string;
  limit: number;
}

/** One of NewTask.rateLimits: at most `limit` tasks holding `key` claimed in any `perMs` ms. */
export interface RateLimit {
  key: string;
  limit: number;
  perMs: number;
}

/** The task a follow-up creates; see NewTask.followUp. */
export interface FollowUp {
  id: string;
  name: string;
  queue: string;
  /** JSON-encoded argument array. */
  payload: string;
}

/** One change in a tag feed: the task's TaskInfo after it, and where the feed stood. */
export interface TagFeedEntry {
  cursor: number;
  info: TaskInfo;
}

export interface TagFeedPage {
  entries: TagFeedEntry[];
  /** The last entry's cursor, or `after` when there is none: pass it as the next `after`. */
  cursor: number;
  /** True when later changes exist beyond `limit`. */
  more: boolean;
}

export interface EnqueueOutcome {
  id: string;
  /** False when the idempotency key matched a known task. */
  created: boolean;
  /**
   * True when the key matched a known task whose name or payload differs from
   * this one's (a key reused for other work); decided in the same atomic step
   * as the key lookup. Absent otherwise.
   */
  conflict?: boolean;
}

export interface ClaimRequest {
  workerId: string;
  queues: string[];
  limit: number;
  leaseMs: number;
  waitMs: number;
  signal?: AbortSignal;
}

/** Which delivery of a task a lease belongs to: all that lease renewal needs. */
export type Delivery = Pick<ClaimedTask, 'id' | 'workerId' | 'attempt'>;

export interface ClaimedTask {
  id: string;
  name: string;
  queue: string;
  payload: string;
  /** 1-based count of deliveries, this one included. */
  attempt: number;
  /** Retries scheduled before this delivery. */
  retries: number;
  enqueuedAt: number;
  workerId: string;
  /** NewTask.trace as stored, when the task has one. */
  trace?: string;
  /**
   * Set by the adapter when the stored record cannot be read (the reason,
   * naming the task and the field); name, queue or payload may then be
   * placeholders. The engine dead-letters such a delivery with a DecodeError.
   */
  undecodable?: string;
}
