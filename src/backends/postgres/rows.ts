import type { ClaimedTask } from '../../core/backend.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../core/json.js';
import { TASK_STATES, type TaskState } from '../../core/states.js';
import type { TaskErrorInfo, TaskInfo, TaskProgress } from '../../core/types.js';

/** SQL for "claimable" and "running"; the partial index matches CLAIMABLE_SQL textually. */
export const CLAIMABLE_SQL = `state IN ('PENDING', 'RETRY')`;

/**
 * The SET list of a claim, on table alias t: a waiting task leased (STARTED)
 * or, expired before it started, ended REVOKED. $2 now, $4 owner, $5 lease
 * until, $6 purge at, $7 the expiry error. Shared by the plain and the fair claim.
 */
export const LEASE_SET_SQL = (() => {
  const expired = 't.expires_at <= $2';
  return `state       = CASE WHEN ${expired} THEN 'REVOKED' ELSE 'STARTED' END,
        version     = t.version + 1,
        attempts    = CASE WHEN ${expired} THEN t.attempts ELSE t.attempts + 1 END,
        started_at  = CASE WHEN ${expired} THEN t.started_at ELSE $2 END,
        lease_owner = CASE WHEN ${expired} THEN NULL ELSE $4 END,
        lease_until = CASE WHEN ${expired} THEN NULL ELSE $5::bigint END,
        finished_at = CASE WHEN ${expired} THEN $2 ELSE t.finished_at END,
        purge_at    = CASE WHEN ${expired} THEN $6::bigint ELSE t.purge_at END,
        error_json  = CASE WHEN ${expired} THEN $7 ELSE t.error_json END`;
})();
export const RUNNING_SQL = `state IN ('STARTED', 'PROGRESS')`;
export const UNFINISHED_SQL = `state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED')`;

/** The columns every statement that yields a task returns. */
export const TASK_COLUMNS = `id, name, queue, state, version, payload, result_json, error_json, progress_json, attempts,
  retries, enqueued_at, run_at, started_at, finished_at, purge_at, tags, follow_up, trace`;

/** A tasks row as TASK_COLUMNS reads it (bigints parsed as numbers). */
export interface TaskRow {
  id: string;
  name: string;
  queue: string;
  state: string;
  version: number;
  payload: string;
  result_json: string | null;
  error_json: string | null;
  progress_json: string | null;
  attempts: number;
  retries: number;
  enqueued_at: number;
  run_at: number;
  started_at: number | null;
  finished_at: number | null;
  purge_at: number | null;
  tags: string | null;
  follow_up: string | null;
  trace: string | null;
}

export interface Decoded {
  info: TaskInfo;
  /** Why the row cannot be read ("<what> (column <name>)"), when it cannot; info is then a FAILURE saying so. */
  problem?: string;
}

const STATES: ReadonlySet<string> = new Set(TASK_STATES);

/** The DecodeError message of an unreadable row (the same words as the sqlite broker's). */
export function unreadableColumn(id: string, problem: string): string {
  return `the stored ${problem} of task ${id} cannot be read`;
}

class Unreadable extends Error {}

function json(text: string, problem: string): unknown {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw new Unreadable(problem);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Unreadable(problem);
  }
}

function readError(text: string): TaskErrorInfo {
  const value = json(text, 'error (column error_json)') as Partial<TaskErrorInfo> | null;
  if (typeof value !== 'object' || value === null || typeof value.type !== 'string' || typeof value.message !== 'string') {
    throw new Unreadable('error (column error_json)');
  }
  return value as TaskErrorInfo;
}

function readProgress(text: string): TaskProgress {
  const value = json(text, 'progress (column progress_json)') as Partial<TaskProgress> | null;
  if (typeof value !== 'object' || value === null || typeof value.current !== 'number') {
    throw new Unreadable('progress (column progress_json)');
  }
  return value as TaskProgress;
}

function readTags(text: string): string[] {
  const value = json(text, 'tags (column tags)');
  if (!Array.isArray(value) || value.some((tag) => typeof tag !== 'string')) throw new Unreadable('tags (column tags)');
  return value as string[];
}

/**
 * A row's TaskInfo. A row a raw client garbled (an unknown state, JSON
 * columns that are not JSON or not what they hold) reads as a FAILURE with
 * a DecodeError naming the column, whatever its stored state; it keeps
 * readable tags, so the task stays in its tag feeds.
 */
export function decodeRow(row: TaskRow): Decoded {
  try {
    if (!STATES.has(row.state)) throw new Unreadable('state (column state)');
    const info: TaskInfo = {
      id: row.id,
      name: row.name,
      queue: row.queue,
      state: row.state as TaskState,
      version: row.version,
      attempts: row.attempts,
      retries: row.retries,
      enqueuedAt: row.enqueued_at,
      runAt: row.run_at,
    };
    if (row.result_json !== null) info.result = json(row.result_json, 'result (column result_json)');
    if (row.error_json !== null) info.error = readError(row.error_json);
    if (row.progress_json !== null) info.progress = readProgress(row.progress_json);
    if (row.started_at !== null) info.startedAt = row.started_at;
    if (row.finished_at !== null) info.finishedAt = row.finished_at;
    if (row.tags !== null) info.tags = readTags(row.tags);
    return { info };
  } catch (error) {
    if (!(error instanceof Unreadable)) throw error;
    const problem = error.message;
    const info: TaskInfo = {
      id: row.id,
      name: row.name,
      queue: row.queue,
      state: 'FAILURE',
      version: Math.max(1, row.version),
      attempts: row.attempts,
      retries: row.retries,
      enqueuedAt: row.enqueued_at,
      runAt: row.run_at,
      error: { type: 'DecodeError', message: unreadableColumn(row.id, problem) },
    };
    if (row.tags !== null) {
      try {
        info.tags = readTags(row.tags);
      } catch {
        // unreadable tags: left out
      }
    }
    return { info, problem };
  }
}

/** The delivery of a claimed row; an unreadable one is marked, for the engine to dead-letter it. */
export function toClaimed(row: TaskRow, decoded: Decoded, workerId: string): ClaimedTask {
  const task: ClaimedTask = {
    id: row.id,
    name: row.name,
    queue: row.queue,
    payload: row.payload,
    attempt: row.attempts,
    retries: row.retries,
    enqueuedAt: row.enqueued_at,
    workerId,
  };
  if (row.trace !== null) task.trace = row.trace;
  if (decoded.problem !== undefined) task.undecodable = unreadableColumn(row.id, decoded.problem);
  return task;
}

/** A finished task whose result expired is unknown, even before prune deletes it. */
export function isExpired(row: { purge_at: number | null }, at: number): boolean {
  return row.purge_at !== null && row.purge_at <= at;
}
