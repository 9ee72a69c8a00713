import { hostname } from 'node:os';
import type { Backend, ClaimedTask } from '../backend.js';
import type { Clock } from '../clock.js';
import type { AttemptEnd } from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { describeError } from '../outcome.js';
import { repeatEvery } from '../repeat.js';
import { VERSION } from '../version.js';
import type { AttemptRecord, WorkerInfo } from './admin-types.js';
import {
  ATTEMPT_RECORDS,
  attemptId,
  bucketOf,
  countKey,
  DEPTH_RECORDS,
  depthId,
  WORKER_RECORDS,
  WORKER_TTL_MS,
} from './bookkeeping-keys.js';

/** Attempt records keep this much of an error's stack. */
const MAX_STACK = 4000;

export interface ReporterOptions {
  /** How long throughput counters and depth samples are kept (default 24 h). */
  historyRetentionMs: number;
  /** How long attempt records are kept (default 24 h: as long as results by default). */
  attemptTtlMs: number;
  /** How often counters and attempt records are written (default 1000 ms). */
  flushMs: number;
  /** How often the worker's registry entry is renewed (default 5000 ms; it expires 15 s after the last). */
  heartbeatMs: number;
}

export interface ReportedWorker {
  id: string;
  queues: readonly string[];
  concurrency: number;
  beat: boolean;
  running(): Iterable<{ claimed: ClaimedTask; launchedAt: number }>;
}

/**
 * A worker's reports to the broker, for the dashboard and the CLI: a
 * heartbeat (WorkerInfo, gone WORKER_TTL_MS after the last), per-minute
 * counts of attempt results per task name, queue depth samples, and attempt
 * records. Counts and records are batched, never written per task.
 */
export class WorkerReporter {
  private counts = new Map<string, number>();
  private attempts: Array<{ id: string; json: string }> = [];
  private countsBucket = 0;
  private lastDepthBucket = 0;
  private readonly startedAt: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private flushing?: Promise<void>;

  constructor(
    private readonly backend: Backend,
    private readonly worker: ReportedWorker,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: ReporterOptions,
  ) {
    this.startedAt = clock.now();
  }

  /** Starts the timers and sends the first heartbeat (a failure is retried by the timer). */
  async start(): Promise<void> {
    this.every(this.options.heartbeatMs, () => this.heartbeat());
    this.every(this.options.flushMs, () => this.flush());
    await this.heartbeat();
  }

  /** Counts an attempt's result; keeps a record of it unless it was a first attempt that succeeded. */
  attempted(task: ClaimedTask, end: AttemptEnd): void {
    const bucket = bucketOf(this.clock.now());
    if (bucket !== this.countsBucket) void this.flush();
    this.countsBucket = bucket;
    const key = countKey(end.result, task.name);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (end.result === 'success' && task.attempt === 1) return;
    const record: AttemptRecord = {
      attempt: task.attempt,
      workerId: this.worker.id,
      startedAt: end.startedAt,
      endedAt: end.startedAt + end.durationMs,
      result: end.result,
    };
    if (end.error !== undefined) {
      record.error = describeError(end.error);
      const stack = (end.error as { stack?: unknown }).stack;
      if (typeof stack === 'string') record.error.stack = stack.slice(0, MAX_STACK);
    }
    this.attempts.push({ id: attemptId(task.id, task.attempt), json: JSON.stringify(record) });
  }

  /** Writes what is pending; a failed write is retried by the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    const admin = this.backend.admin;
    if (this.counts.size > 0) {
      const counts = this.counts;
      this.counts = new Map();
      try {
        await admin.addCounts(this.countsBucket, Object.fromEntries(counts), this.options.historyRetentionMs);
      } catch (error) {
        for (const [key, n] of counts) this.counts.set(key, (this.counts.get(key) ?? 0) + n);
        throw error;
      }
    }
    if (this.attempts.length > 0) {
      const records = this.attempts;
      this.attempts = [];
      try {
        await admin.putRecords(ATTEMPT_RECORDS, records, this.options.attemptTtlMs);
      } catch (error) {
        this.attempts.unshift(...records.slice(-10_000));
        throw error;
      }
    }
  }

  private async heartbeat(): Promise<void> {
    const t = this.clock.now();
    const running = [...this.worker.running()];
    const info: WorkerInfo = {
      id: this.worker.id,
      host: hostname(),
      pid: process.pid,
      queues: [...this.worker.queues],
      concurrency: this.worker.concurrency,
      running: running.slice(0, 50).map(({ claimed, launchedAt }) => ({
        id: claimed.id,
        name: claimed.name,
        attempt: claimed.attempt,
        startedAt: launchedAt,
      })),
      runningCount: running.length,
      startedAt: this.startedAt,
      version: VERSION,
      beat: this.worker.beat,
      heartbeatAt: t,
    };
    await this.backend.admin.putRecords(WORKER_RECORDS, [{ id: info.id, json: JSON.stringify(info) }], WORKER_TTL_MS);
    await this.sampleDepth(t);
  }

  /** Once a minute per worker: how many tasks wait in each of its queues (the last sample of a minute wins). */
  private async sampleDepth(t: number): Promise<void> {
    const bucket = bucketOf(t);
    if (bucket === this.lastDepthBucket) return;
    this.lastDepthBucket = bucket;
    const samples = await Promise.all(
      this.worker.queues.map(async (queue) => ({
        id: depthId(bucket, queue),
        json: JSON.stringify({ waiting: await this.backend.countWaiting(queue) }),
      })),
    );
    await this.backend.admin.putRecords(DEPTH_RECORDS, samples, this.options.historyRetentionMs);
  }

  /** Stops the timers, writes what is pending and takes the worker out of the registry. */
  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.flush().catch((error: unknown) =>
      this.logger.warn({ workerId: this.worker.id, err: error }, 'could not write worker history'),
    );
    await this.backend.admin.deleteRecord(WORKER_RECORDS, this.worker.id).catch(() => {});
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const log = (error: unknown): void => this.logger.warn({ workerId: this.worker.id, err: error }, 'worker report failed');
    this.timers.push(repeatEvery(ms, fn, log));
  }
}
