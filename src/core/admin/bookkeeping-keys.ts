import type { AttemptResult } from '../instrumentation.js';

/** Record kinds and log names the engine keeps through BackendAdmin, and how long. */
export const WORKER_RECORDS = 'worker';
export const ATTEMPT_RECORDS = 'attempt';
export const DEPTH_RECORDS = 'depth';
export const ACTION_LOG = 'actions';

/** A worker that missed heartbeats for this long is gone (the bound: 30 s). */
export const WORKER_TTL_MS = 15_000;
export const HEARTBEAT_MS = 5000;
export const HISTORY_BUCKET_MS = 60_000;

/** Counter key of one attempt result of one task name, e.g. `success|email.send`. */
export function countKey(result: AttemptResult, task: string): string {
  return `${result}|${task}`;
}

/** Attempt record id: sorts by task, then attempt number. */
export function attemptId(taskId: string, attempt: number): string {
  return `${taskId}:${String(attempt).padStart(6, '0')}`;
}

/** Depth record id: sorts by minute. */
export function depthId(bucket: number, queue: string): string {
  return `${String(bucket).padStart(15, '0')}:${queue}`;
}

export function bucketOf(t: number): number {
  return Math.floor(t / HISTORY_BUCKET_MS) * HISTORY_BUCKET_MS;
}
