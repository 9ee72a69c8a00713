import { InvalidArgumentError } from '../errors.js';
import type { TaskState } from '../states.js';
import type { TaskInfo } from '../types.js';

/**
 * The broker's half of the operations API (Backend.admin): queries over the
 * stored tasks, the actions an operator takes, and a little bookkeeping
 * storage (worker heartbeats, throughput counters, logs) that the engine's
 * Admin builds the dashboard's and the CLI's views from. None of it is on
 * the task hot path except the pause check in claim.
 *
 * Rules every adapter keeps (pinned by test/conformance/admin.ts):
 * - Expired tasks (result past resultTtl) are unknown here as everywhere.
 * - Every task transition an action makes bumps `version` and publishes the
 *   new TaskInfo to status subscribers, as the worker-side transitions do.
 * - A paused queue hands out nothing: claim skips it (other queues of the
 *   same claim are served) until it is resumed; enqueue still accepts tasks.
 */
export interface BackendAdmin {
  /** Every queue that holds a kept task or is paused, with its counts; plus kept tasks by state. */
  overview(): Promise<BrokerOverview>;
  /** Kept tasks matching `query`, newest enqueue first (ties: id), one page. */
  listTasks(query: TaskQuery): Promise<TaskPage>;
  /** Everything stored about one task, or null when unknown or expired. */
  getTask(id: string): Promise<TaskRecord | null>;

  /**
   * Runs finished tasks again: each id in FAILURE or REVOKED becomes PENDING,
   * due now, with retries 0, error, result, startedAt and finishedAt
   * cleared; attempts keep counting. Its follow-up is not armed again.
   * Returns the ids it moved (unknown, expired or other states are skipped).
   */
  retryTasks(ids: readonly string[]): Promise<string[]>;
  /** REVOKES every waiting task (PENDING or RETRY, due or not) of `queue`; returns how many. */
  purgeQueue(queue: string): Promise<number>;
  /** Pauses or resumes claims from `queue` (idempotent), for every process on the broker. */
  setQueuePaused(queue: string, paused: boolean): Promise<void>;
  /** The paused queues, sorted. */
  pausedQueues(): Promise<string[]>;
  /**
   * Puts dead letters back to work: for each id, every dead letter of that
   * task id is removed and the task runs again, as retryTasks does when its
   * record is kept, else as a new PENDING task with the dead letter's id,
   * name, queue, payload and trace. Returns the ids it re-queued.
   */
  retryDeadLetters(ids: readonly string[]): Promise<string[]>;
  /** Deletes every dead letter of these task ids; returns how many entries went. */
  dropDeadLetters(ids: readonly string[]): Promise<number>;

  /**
   * Stores (or replaces) the small JSON record `id` of `kind`; it is gone
   * `ttlMs` after its last put. Worker heartbeats and attempt records use it.
   */
  putRecords(kind: string, records: ReadonlyArray<{ id: string; json: string }>, ttlMs: number): Promise<void>;
  /** Records of `kind` whose id starts with `idPrefix` ('' for all), unexpired, sorted by id. */
  listRecords(kind: string, idPrefix?: string): Promise<Array<{ id: string; json: string }>>;
  deleteRecord(kind: string, id: string): Promise<void>;

  /**
   * Adds `deltas` to the counters of time bucket `bucket` (e.g. a minute's
   * start in ms), atomically across processes; the bucket is dropped
   * `retainMs` after its own time.
   */
  addCounts(bucket: number, deltas: Readonly<Record<string, number>>, retainMs: number): Promise<void>;
  /** Buckets at or after `since`, oldest first. */
  readCounts(since: number): Promise<CountBucket[]>;

  /** Appends an entry to log `kind`, keeping its newest `keep` entries. */
  appendLog(kind: string, json: string, keep: number): Promise<void>;
  /** The newest `limit` entries of log `kind`, newest first. */
  readLog(kind: string, limit: number): Promise<string[]>;
}

export interface BrokerOverview {
  queues: QueueSummary[];
  /** Kept tasks per state (every state present, 0 when none). */
  states: Record<TaskState, number>;
}

export interface QueueSummary {
  queue: string;
  /** PENDING or RETRY and due now. */
  ready: number;
  /** PENDING or RETRY with a runAt in the future (countdown, ETA, retry backoff). */
  scheduled: number;
  /** STARTED or PROGRESS. */
  running: number;
  /** The earliest runAt among the ready tasks (how long the head has waited), when any. */
  oldestReadyAt?: number;
  paused: boolean;
}

export interface TaskQuery {
  state?: TaskState;
  name?: string;
  queue?: string;
  /** enqueuedAt >= since. */
  since?: number;
  /** enqueuedAt < until. */
  until?: number;
  /** Page size, 1 to 1000. */
  limit: number;
  /** TaskPage.next of the page before. */
  cursor?: string;
}

export interface TaskPage {
  tasks: TaskInfo[];
  /** Pass as TaskQuery.cursor for the next page; absent on the last one. */
  next?: string;
}

/** A task as an operator inspects it. */
export interface TaskRecord {
  info: TaskInfo;
  /** The JSON-encoded argument array, as stored. */
  payload: string;
  trace?: string;
  /** Whether it is in the dead-letter store. */
  deadLettered: boolean;
}

export interface CountBucket {
  bucket: number;
  counts: Record<string, number>;
}

/** Encodes a keyset cursor for TaskQuery: the last listed task's enqueue time and id. */
export function taskCursor(info: Pick<TaskInfo, 'enqueuedAt' | 'id'>): string {
  return `${info.enqueuedAt}:${info.id}`;
}

/** Decodes a TaskQuery cursor; undefined when absent, an InvalidArgumentError when malformed. */
export function parseTaskCursor(cursor: string | undefined): { enqueuedAt: number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const at = cursor.indexOf(':');
  const enqueuedAt = Number(cursor.slice(0, at));
  if (at <= 0 || !Number.isSafeInteger(enqueuedAt))
    throw new InvalidArgumentError('cursor', `not a task list cursor: ${JSON.stringify(cursor.slice(0, 80))}`);
  return { enqueuedAt, id: cursor.slice(at + 1) };
}

/** True when `info` sorts after the cursor position (newest first; ties by id descending). */
export function isAfterCursor(info: Pick<TaskInfo, 'enqueuedAt' | 'id'>, cursor: { enqueuedAt: number; id: string }): boolean {
  return info.enqueuedAt < cursor.enqueuedAt || (info.enqueuedAt === cursor.enqueuedAt && info.id < cursor.id);
}
