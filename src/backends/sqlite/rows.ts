import type { ClaimedTask, Delivery } from '../../core/backend.js';
import type { TaskState } from '../../core/states.js';
import type { TaskInfo } from '../../core/types.js';

/** SQL for "claimable" and "running"; the partial index matches CLAIMABLE_SQL textually. */
export const CLAIMABLE_SQL = `state IN ('PENDING', 'RETRY')`;
export const RUNNING_SQL = `state IN ('STARTED', 'PROGRESS')`;

const TIME_OK = (column: string) => `typeof(${column}) IN ('integer', 'real') AND abs(${column}) < 1e300`;
const OPTIONAL_TIME_OK = (column: string) => `(${column} IS NULL OR ${TIME_OK(column)})`;
/** 1 when the (non-null) tags column is a JSON array of strings; a CASE, so json_type never sees invalid JSON. */
const TAGS_OK = `(CASE WHEN typeof(tags) <> 'text' OR NOT json_valid(tags) THEN 0 WHEN json_type(tags) <> 'array' THEN 0
  WHEN EXISTS (SELECT 1 FROM json_each(tags) WHERE type <> 'text') THEN 0 ELSE 1 END)`;

/**
 * Why a task row cannot be read as a TaskInfo, as "<what> (column <name>)",
 * or NULL when it can. Rows errand wrote never qualify; a raw client's
 * garbage does: JSON columns that are not JSON (or not the object they hold),
 * text where numbers belong, an unknown state, blobs. Cheap on the busy path:
 * json_valid only runs on JSON columns that are set. (A claim adds 1 to version
 * and attempts and sets started_at, which repairs text there: such a row runs.)
 */
export const PROBLEM_SQL = `(CASE
  WHEN typeof(name) <> 'text' THEN 'name (column name)'
  WHEN typeof(queue) <> 'text' THEN 'queue (column queue)'
  WHEN state NOT IN ('PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED') THEN 'state (column state)'
  WHEN typeof(version) <> 'integer' THEN 'version (column version)'
  WHEN typeof(attempts) <> 'integer' THEN 'attempt count (column attempts)'
  WHEN typeof(retries) <> 'integer' THEN 'retry count (column retries)'
  WHEN NOT (${TIME_OK('enqueued_at')}) THEN 'enqueue time (column enqueued_at)'
  WHEN NOT (${TIME_OK('run_at')}) THEN 'due time (column run_at)'
  WHEN NOT (${OPTIONAL_TIME_OK('started_at')} AND ${OPTIONAL_TIME_OK('finished_at')}) THEN 'start or finish time (column started_at or finished_at)'
  WHEN result_json IS NOT NULL AND NOT json_valid(result_json) THEN 'result (column result_json)'
  WHEN error_json IS NOT NULL AND NOT json_valid(error_json) THEN 'error (column error_json)'
  WHEN error_json IS NOT NULL AND (json_type(error_json, '$.type') IS NOT 'text' OR json_type(error_json, '$.message') IS NOT 'text')
    THEN 'error (column error_json)'
  WHEN progress_json IS NOT NULL AND NOT json_valid(progress_json) THEN 'progress (column progress_json)'
  WHEN progress_json IS NOT NULL AND ifnull(json_type(progress_json, '$.current'), '') NOT IN ('integer', 'real')
    THEN 'progress (column progress_json)'
  WHEN tags IS NOT NULL AND NOT ${TAGS_OK} THEN 'tags (column tags)'
END)`;

/** The DecodeError message of a row PROBLEM_SQL found unreadable. */
export function unreadableColumn(id: string, problem: string): string {
  return `the stored ${problem} of task ${id} cannot be read`;
}

// In the FAILURE of an unreadable row; its version is at least 1, as watchers skip version 0.
const NUMBER_OR_ZERO = (column: string) => `(CASE WHEN ${TIME_OK(column)} THEN ${column} ELSE 0 END)`;

/**
 * A task row's TaskInfo as JSON text, built in SQL: exactly the interface's
 * fields, unset optionals left out, the stored result/error/progress JSON
 * spliced in verbatim. Statements return this one column (building row
 * objects costs more than the query) and the same text becomes the event.
 * A row PROBLEM_SQL finds unreadable is a FAILURE with a DecodeError naming
 * the column (whatever its stored state), so the text is always valid JSON;
 * it keeps readable tags, so the task stays in its tag feeds.
 */
export const INFO_JSON = `(CASE WHEN ${PROBLEM_SQL} IS NULL
  THEN '{"id":' || json_quote(id) || ',"name":' || json_quote(name) || ',"queue":' || json_quote(queue)
  || ',"state":"' || state || '","version":' || version || ',"attempts":' || attempts || ',"retries":' || retries
  || ',"enqueuedAt":' || enqueued_at || ',"runAt":' || run_at
  || ifnull(',"result":' || result_json, '') || ifnull(',"error":' || error_json, '')
  || ifnull(',"progress":' || progress_json, '') || ifnull(',"startedAt":' || started_at, '')
  || ifnull(',"finishedAt":' || finished_at, '') || ifnull(',"tags":' || tags, '') || '}'
  ELSE '{"id":' || json_quote(CAST(id AS TEXT)) || ',"name":' || json_quote(CAST(name AS TEXT))
  || ',"queue":' || json_quote(CAST(queue AS TEXT))
  || ',"state":"FAILURE","version":' || (CASE WHEN typeof(version) = 'integer' AND version > 0 THEN version ELSE 1 END)
  || ',"attempts":' || ${NUMBER_OR_ZERO('attempts')} || ',"retries":' || ${NUMBER_OR_ZERO('retries')}
  || ',"enqueuedAt":' || ${NUMBER_OR_ZERO('enqueued_at')} || ',"runAt":' || ${NUMBER_OR_ZERO('run_at')}
  || ',"error":' || json_object('type', 'DecodeError', 'message', 'the stored ' || ${PROBLEM_SQL} || ' of task ' || CAST(id AS TEXT) || ' cannot be read')
  || ifnull(',"tags":' || (CASE WHEN tags IS NOT NULL AND ${TAGS_OK} THEN tags END), '') || '}'
END)`;

/** What getInfo and revoke read. */
export interface InfoRow {
  state: TaskState;
  purge_at: number | null;
  info: string;
}

/** What claim returns per leased (or expired) task. */
export interface ClaimRow {
  seq: number;
  run_at: number;
  priority: number;
  state: TaskState;
  /** As text, whatever the column holds. */
  payload: string;
  info: string;
  /** PROBLEM_SQL: why the row cannot be read, or null. */
  problem: string | null;
  /** The task's follow-up as JSON, or null: an expired one's is enqueued in the same transaction. */
  follow_up: string | null;
  /** NewTask.trace, or null. */
  trace: unknown;
  /** 1 when the task holds concurrency limits (the flow-controlled claim only). */
  limited?: number;
}

export function parseInfo(text: string): TaskInfo {
  return JSON.parse(text) as TaskInfo;
}

/** The delivery of a claimed row; an unreadable one is marked, for the engine to dead-letter it. */
export function toClaimed(info: TaskInfo, row: ClaimRow, workerId: string): ClaimedTask {
  const task: ClaimedTask = {
    id: info.id,
    name: info.name,
    queue: info.queue,
    payload: row.payload,
    attempt: info.attempts,
    retries: info.retries,
    enqueuedAt: info.enqueuedAt,
    workerId,
  };
  if (typeof row.trace === 'string') task.trace = row.trace;
  if (row.problem !== null) task.undecodable = unreadableColumn(info.id, row.problem);
  return task;
}

/** The identity of a delivery, bound into the stale-delivery check of every worker-side write. */
export function deliveryParams(task: Delivery): { id: string; owner: string; attempt: number } {
  return { id: task.id, owner: task.workerId, attempt: task.attempt };
}
