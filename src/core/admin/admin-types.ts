import type { AttemptResult } from '../instrumentation.js';
import type { TaskState } from '../states.js';
import type { DeadLetter, TaskErrorInfo, TaskInfo } from '../types.js';
import type { QueueSummary, TaskQuery } from './admin-backend.js';

/** A live worker, from its last heartbeat in the broker. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  /** The tasks it runs now (at most 50 listed). */
  running: Array<{ id: string; name: string; attempt: number; startedAt: number }>;
  /** How many it runs now (also past the 50 listed). */
  runningCount: number;
  startedAt: number;
  /** errand's version in that process. */
  version: string;
  beat: boolean;
  heartbeatAt: number;
}

/** One attempt of a task, as the worker that ran it reported it. */
export interface AttemptRecord {
  attempt: number;
  workerId?: string;
  /** Unknown for a delivery whose worker died before reporting it. */
  startedAt?: number;
  endedAt?: number;
  /** 'running' while it runs; 'unknown' when no worker reported how it ended. */
  result: AttemptResult | 'running' | 'unknown';
  /** The error thrown, with its stack (the first 4,000 characters) when it had one. */
  error?: TaskErrorInfo & { stack?: string };
}

/** A task as the dashboard's detail view shows it. */
export interface TaskDetail {
  info: TaskInfo;
  /** The decoded argument array; the raw text when it is not JSON. */
  args: unknown;
  /** Size of the stored arguments, in bytes. */
  argsBytes: number;
  trace?: string;
  deadLettered: boolean;
  /**
   * Every attempt, oldest first. Workers report all attempts except a first
   * attempt that succeeded (recording those would cost a write per task);
   * such an attempt, and any the broker knows of but no worker reported, is
   * listed from the task's own times with result 'unknown' or its state.
   */
  attempts: AttemptRecord[];
}

export interface Overview {
  queues: QueueSummary[];
  states: Record<TaskState, number>;
  workers: number;
  deadLetters: number;
  paused: string[];
}

export interface ScheduleInfo {
  name: string;
  task: string;
  /** `cron <expr> [tz]` or `every <ms> ms`. */
  spec: string;
  nextRunAt: number;
}

export interface ThroughputPoint {
  /** The minute's start. */
  at: number;
  task: string;
  succeeded: number;
  failed: number;
  retried: number;
}

export interface DepthPoint {
  at: number;
  queue: string;
  waiting: number;
}

export interface History {
  since: number;
  throughput: ThroughputPoint[];
  depth: DepthPoint[];
}

/** Which tasks a bulk action applies to: ids, or every task a filter matches. */
export type TaskSelection = { ids: readonly string[] } | { filter: Omit<TaskQuery, 'limit' | 'cursor'> };

export interface ActionOptions {
  /** Who did it, for the action log (e.g. the dashboard's user, 'cli'). */
  actor?: string;
  /** Called as a long bulk action goes: how many tasks were done so far. */
  onProgress?(done: number): void;
}

/** An operator action, as the action log keeps it. */
export interface ActionEntry {
  at: number;
  actor: string;
  action: 'retry' | 'revoke' | 'purge' | 'pause' | 'resume' | 'retry-dead-letters' | 'drop-dead-letters';
  /** What it applied to: ids (at most 20 listed), a filter, or a queue. */
  target: string;
  count: number;
}

export type { DeadLetter };
