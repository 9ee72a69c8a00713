/** The JSON the dashboard's server sends (see ../panels.ts and ../truncate.ts). */

export interface Preview {
  text: string;
  bytes: number;
  chars: number;
  truncated: boolean;
}

export interface QueueRow {
  queue: string;
  ready: number;
  scheduled: number;
  running: number;
  oldestReadyAt?: number;
  paused: boolean;
}

export interface Overview {
  queues: QueueRow[];
  states: Record<string, number>;
  workers: number;
  deadLetters: number;
  paused: string[];
}

export interface TaskRow {
  id: string;
  name: string;
  queue: string;
  state: string;
  version: number;
  attempts: number;
  retries: number;
  enqueuedAt: number;
  runAt: number;
  startedAt?: number;
  finishedAt?: number;
  tags?: string[];
  result?: Preview;
  error?: { type: string; message: Preview };
  progress?: { current: number; total?: number; meta?: Preview };
}

export interface TaskPage {
  tasks: TaskRow[];
  next?: string;
}

export interface Attempt {
  attempt: number;
  workerId?: string;
  startedAt?: number;
  endedAt?: number;
  result: string;
  error?: { type: string; message: Preview; stack?: string };
}

export interface Detail {
  info: TaskRow;
  args: Preview;
  argsBytes: number;
  deadLettered: boolean;
  trace?: string;
  attempts: Attempt[];
}

export interface Worker {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  running: Array<{ id: string; name: string; attempt: number; startedAt: number }>;
  runningCount: number;
  startedAt: number;
  version: string;
  beat: boolean;
  heartbeatAt: number;
}

export interface DeadLetterRow {
  id: string;
  name: string;
  queue: string;
  at: number;
  error: { type: string; message: Preview };
  payload: Preview;
}

export interface Schedule {
  name: string;
  task: string;
  spec: string;
  nextRunAt: number;
}

export interface ActionEntry {
  at: number;
  actor: string;
  action: string;
  target: string;
  count: number;
}

export interface History {
  since: number;
  throughput: Array<{ at: number; task: string; succeeded: number; failed: number; retried: number }>;
  depth: Array<{ at: number; queue: string; waiting: number }>;
}
