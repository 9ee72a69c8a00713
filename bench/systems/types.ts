/** The four contenders. */
export const SYSTEM_NAMES = ['errand-redis', 'bullmq', 'bee-queue', 'errand-sqlite'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/**
 * What a task does. 'noop' returns nothing; 'stamp' returns the clock()
 * reading at handler start, so the producer can compute enqueue → start.
 */
export type HandlerMode = 'noop' | 'stamp';

/** One adapter per system, behind the same small surface. */
export interface BenchSystem {
  readonly name: SystemName;
  /** True when the system keeps its data in the bench Redis database. */
  readonly usesRedis: boolean;
  /** Library version, for the report. */
  version(): string;
  /** How enqueueBulk enqueues (for the report). */
  readonly bulkMethod: string;
  /** Deletes whatever the system stored outside Redis (Redis is flushed by the harness). */
  resetStorage(): Promise<void>;
  openProducer(options: { watchResults: boolean }): Promise<Producer>;
  /** Worker side (runs in a child process): connects, but takes no task until start(). */
  prepareWorker(options: WorkerOptions): Promise<WorkerRun>;
}

export interface Producer {
  /** Enqueues `count` tasks (args: their index) in one go, the system's bulk way. */
  enqueueBulk(count: number): Promise<void>;
  /** An alternative bulk path, when the system has one worth reporting (errand: task.delayMany). */
  readonly altBulk?: { method: string; enqueue(count: number): Promise<void> };
  /**
   * The system's one-call bulk enqueue, for the bulk workload: stores tasks
   * `start` … `start + count - 1` (args: their index) in one call.
   */
  readonly batch: { method: string; enqueue(start: number, count: number): Promise<void> };
  /**
   * Enqueues one task; resolves once it is stored, with a promise of the
   * handler's return value as this producer learns it (needs watchResults).
   */
  send(index: number): Promise<{ result: Promise<unknown> }>;
  close(): Promise<void>;
}

export interface WorkerOptions {
  concurrency: number;
  mode: HandlerMode;
  /** Called once per task whose success is recorded in the broker. */
  onCompleted: () => void;
}

export interface WorkerRun {
  /** Begins taking tasks. */
  start(): Promise<void>;
  /** Stops taking tasks and closes every connection. */
  close(): Promise<void>;
}
