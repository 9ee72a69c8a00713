import type { ClaimedTask } from '../../core/backend.js';
import type { TaskState } from '../../core/states.js';
import type { TaskInfo } from '../../core/types.js';

/** SQL for "claimable" and "running"; the partial index matches CLAIMABLE_SQL textually. */
export const CLAIMABLE_SQL = `state IN ('PENDING', 'RETRY')`;
export const RUNNING_SQL = `state IN ('STARTED', 'PROGRESS')`;

/**
 * A task row's TaskInfo as JSON text, built in SQL: exactly the interface's
 * fields, unset optionals left out, the stored result/error/progress JSON
 * spliced in verbatim. Statements return this one column (building row
 * objects costs more than the query) and the same text becomes the event.
 */
export const INFO_JSON = `('{"id":' || json_quote(id) || ',"name":' || json_quote(name) || ',"queue":' || json_quote(queue)
  || ',"state":"' || state || '","version":' || version || ',"attempts":' || attempts || ',"retries":' || retries
  || ',"enqueuedAt":' || enqueued_at || ',"runAt":' || run_at
  || ifnull(',"result":' || result_json, '') || ifnull(',"error":' || error_json, '')
  || ifnull(',"progress":' || progress_json, '') || ifnull(',"startedAt":' || started_at, '')
  || ifnull(',"finishedAt":' || finished_at, '') || '}')`;

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
  state: TaskState;
  payload: string;
  info: string;
}

export function parseInfo(text: string): TaskInfo {
  return JSON.parse(text) as TaskInfo;
}

export function toClaimed(info: TaskInfo, payload: string, workerId: string): ClaimedTask {
  return {
    id: info.id,
    name: info.name,
    queue: info.queue,
    payload,
    attempt: info.attempts,
    retries: info.retries,
    enqueuedAt: info.enqueuedAt,
    workerId,
  };
}

/** The identity of a delivery, bound into the stale-delivery check of every worker-side write. */
export function deliveryParams(task: ClaimedTask): { id: string; owner: string; attempt: number } {
  return { id: task.id, owner: task.workerId, attempt: task.attempt };
}
