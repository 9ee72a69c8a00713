import type { TaskState } from './states.js';

/** Any value that survives JSON.stringify/JSON.parse unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A failed attempt's error as stored: its class name and message (never a stack trace). */
export interface TaskErrorInfo {
  type: string;
  message: string;
}

export interface TaskProgress {
  current: number;
  total?: number;
  meta?: JsonValue;
}

/**
 * The status record of one task. Every transition bumps `version`; times are
 * milliseconds since the epoch.
 */
export interface TaskInfo {
  id: string;
  name: string;
  queue: string;
  state: TaskState;
  version: number;
  result?: unknown;
  error?: TaskErrorInfo;
  progress?: TaskProgress;
  /** How many times a worker has started the task (redeliveries included). */
  attempts: number;
  /** How many retries have been scheduled. */
  retries: number;
  enqueuedAt: number;
  /** When the task becomes due (countdown, ETA, retry backoff). */
  runAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** The labels given at enqueue (ApplyOptions.tags), when there were any. */
  tags?: string[];
}

/** A message that failed to decode or named an unknown task, kept for inspection. */
export interface DeadLetter {
  id: string;
  name: string;
  queue: string;
  payload: string;
  error: TaskErrorInfo;
  at: number;
  /** The task's trace context (NewTask.trace), when it had one. */
  trace?: string;
}
