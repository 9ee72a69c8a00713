import { AsyncLocalStorage } from 'node:async_hooks';
import { MemoryBackend } from '../backends/memory/memory-backend.js';
import { cronPlanner } from '../beat/cron-planner.js';
import type { ClaimedTask, EnqueueOutcome, NewTask } from '../core/backend.js';
import { ManualClock } from '../core/clock.js';
import { Errand, type ErrandOptions } from '../core/errand.js';
import { ClosedError, ShutdownError } from '../core/errors.js';
import { RunningTask, runTask, type RunDependencies } from '../core/run-task.js';
import { isTerminal } from '../core/states.js';
import type { TaskErrorInfo, TaskInfo } from '../core/types.js';

/** How tasks run in a test app. */
export type TestMode = 'inline' | 'manual';

export interface TestAppOptions extends Pick<ErrandOptions, 'payloadLimitBytes' | 'logger' | 'idempotency'> {
  /**
   * 'inline' (default): a task runs as soon as it is due. delay() and its
   * siblings resolve once the tasks they enqueued have run (with whatever
   * those enqueued in turn); a countdown, an ETA or a retry backoff waits for
   * advance(). 'manual': tasks only run when the test calls drain().
   */
  mode?: TestMode;
  /** Where the clock starts (default: the real time now). */
  now?: Date | number;
  /** How long finished tasks are kept, in clock time (default 24 h). */
  resultTtlMs?: number;
  /** How many dead letters are kept (default 1000). */
  deadLetterLimit?: number;
}

/** One enqueue, as the broker received it. */
export interface EnqueuedTask {
  /** The id delay() returned: the known task's, when an idempotency key matched one. */
  id: string;
  name: string;
  /** The arguments as a worker receives them (after the JSON round trip). */
  args: unknown[];
  queue: string;
  enqueuedAt: number;
  /** When it is due (countdown, eta). */
  runAt: number;
  expiresAt?: number;
  idempotencyKey?: string;
  /** False when an idempotency key matched a known task and nothing new was stored. */
  created: boolean;
  /** True when that known task had another name or other arguments. */
  conflict?: boolean;
}

/** A task that reached a final state. */
export interface FinishedTask {
  id: string;
  name: string;
  args: unknown[];
  state: 'SUCCESS' | 'FAILURE' | 'REVOKED';
  /** The result as a producer reads it (after the JSON round trip). */
  result?: unknown;
  error?: TaskErrorInfo;
  attempts: number;
  retries: number;
  finishedAt: number;
}

export interface DrainOptions {
  /**
   * When nothing is due, move the clock to the next due task (a countdown, a
   * retry backoff) and go on, until nothing is queued (default false).
   */
  advance?: boolean;
  /** Give up with an Error after running this many tasks (default 10,000): a task that keeps enqueueing itself. */
  maxTasks?: number;
}

const WORKER_ID = 'errand-testing';
/** Leases in a test app never lapse: nothing rescues its tasks. */
const LEASE_MS = 365 * 24 * 3600_000;
/** Set while a handler runs: an enqueue made there must not wait for its own caller. */
const insideHandler = new AsyncLocalStorage<boolean>();

/** The memory broker, recording every enqueue and every final state. */
class RecordingBackend extends MemoryBackend {
  readonly calls: EnqueuedTask[] = [];
  readonly finished: FinishedTask[] = [];
  onStored: (created: string[]) => Promise<void> = async () => {};

  override async enqueue(task: NewTask): Promise<EnqueueOutcome> {
    const outcome = await super.enqueue(task);
    this.record(task, outcome);
    if (outcome.created) await this.onStored([outcome.id]);
    return outcome;
  }

  override async enqueueMany(tasks: NewTask[]): Promise<EnqueueOutcome[]> {
    const outcomes = await super.enqueueMany(tasks);
    tasks.forEach((task, i) => this.record(task, outcomes[i]!));
    const created = outcomes.filter((o) => o.created).map((o) => o.id);
    if (created.length > 0) await this.onStored(created);
    return outcomes;
  }

  protected override transitioned(info: TaskInfo, payload: string): void {
    if (!isTerminal(info.state)) return;
    const done: FinishedTask = {
      id: info.id,
      name: info.name,
      args: JSON.parse(payload) as unknown[],
      state: info.state as FinishedTask['state'],
      attempts: info.attempts,
      retries: info.retries,
      finishedAt: info.finishedAt ?? this.clock.now(),
    };
    if ('result' in info) done.result = info.result;
    if (info.error) done.error = info.error;
    this.finished.push(done);
  }

  private record(task: NewTask, outcome: EnqueueOutcome): void {
    const call: EnqueuedTask = {
      id: outcome.id,
      name: task.name,
      args: JSON.parse(task.payload) as unknown[],
      queue: task.queue,
      enqueuedAt: task.enqueuedAt,
      runAt: task.runAt,
      created: outcome.created,
    };
    if (task.expiresAt !== undefined) call.expiresAt = task.expiresAt;
    if (task.idempotencyKey !== undefined) call.idempotencyKey = task.idempotencyKey;
    if (outcome.conflict) call.conflict = true;
    this.calls.push(call);
  }
}

/**
 * An errand app for tests: the memory broker, a manual clock, and tasks run
 * in this process by the engine's own code (the same decoding, retries,
 * time limits and result encoding as a worker), without a Worker.
 * Define tasks on `testApp.app` (pass it to the function that defines your tasks).
 */
export class TestApp {
  readonly app: Errand;
  readonly clock: ManualClock;
  readonly mode: TestMode;
  private readonly backend: RecordingBackend;
  private readonly deps: RunDependencies;
  private readonly running = new Set<Promise<void>>();
  private readonly attempts = new Set<RunningTask>();
  private closed = false;

  constructor(options: TestAppOptions = {}) {
    this.mode = options.mode ?? 'inline';
    if (this.mode !== 'inline' && this.mode !== 'manual')
      throw new TypeError(`mode must be 'inline' or 'manual', got ${String(this.mode)}`);
    this.clock = new ManualClock(options.now);
    this.backend = new RecordingBackend({
      resultTtlMs: options.resultTtlMs ?? 24 * 3600_000,
      deadLetterLimit: options.deadLetterLimit ?? 1000,
      clock: this.clock,
    });
    this.app = new Errand(this.backend, {
      clock: this.clock,
      payloadLimitBytes: options.payloadLimitBytes,
      logger: options.logger,
      idempotency: options.idempotency,
      cronPlanner,
    });
    this.deps = this.app.runDependencies();
    if (this.mode === 'inline') this.backend.onStored = (ids) => this.runInline(ids);
  }

  /** Every enqueue so far, in order; only those of task `name` when given. */
  enqueued(name?: string): EnqueuedTask[] {
    return this.backend.calls.filter((c) => name === undefined || c.name === name).map((c) => ({ ...c }));
  }

  /** Every task that reached a final state so far, in the order they ended. */
  get results(): FinishedTask[] {
    return this.backend.finished.map((r) => ({ ...r }));
  }

  /** Results of task `name` only. */
  resultsOf(name: string): FinishedTask[] {
    return this.results.filter((r) => r.name === name);
  }

  /**
   * Runs every task that is due, one at a time in due order, including those
   * that become due meanwhile (what they enqueue, retries with no backoff
   * left); with `advance`, also what the clock reaches by jumping to each next
   * due time. Resolves with how many task runs it made.
   */
  async drain(options: DrainOptions = {}): Promise<number> {
    this.assertOpen();
    const maxTasks = options.maxTasks ?? 10_000;
    let ran = 0;
    for (;;) {
      if (this.closed) return ran; // close() aborted what was running: stop here
      const queues = this.backend.queueNames();
      const [task] =
        queues.length === 0
          ? []
          : await this.backend.claim({ workerId: WORKER_ID, queues, limit: 1, leaseMs: LEASE_MS, waitMs: 0 });
      if (task) {
        if (++ran > maxTasks) {
          await this.backend.release(task);
          throw new Error(`drain() ran ${maxTasks} tasks and more are due: does a task keep enqueueing itself? (raise maxTasks)`);
        }
        await this.run(task);
        continue;
      }
      // What handlers started and did not await (an un-awaited delay()) may still be running.
      if (this.running.size > 0 && !insideHandler.getStore()) {
        await Promise.all([...this.running]);
        continue;
      }
      const next = options.advance ? this.backend.nextRunAt() : undefined;
      if (next === undefined) return ran;
      this.clock.set(Math.max(next, this.clock.now()));
    }
  }

  /** Moves the clock forward by `ms` (firing its timers); in inline mode, then runs what fell due. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    if (this.mode === 'inline') await this.drain();
  }

  /** Forgets what enqueued() and results report (the broker keeps its tasks). */
  clear(): void {
    this.backend.calls.length = 0;
    this.backend.finished.length = 0;
  }

  /** Closes the app (and its broker); tasks still running are aborted (ShutdownError), as a worker's stop would. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const attempt of this.attempts) attempt.abort('shutdown', new ShutdownError('the test app was closed'));
    await Promise.allSettled([...this.running]);
    await this.app.close();
  }

  /** Inline mode: runs the tasks an enqueue just stored, if due, and (outside a handler) what they left running. */
  private async runInline(ids: string[]): Promise<void> {
    if (this.closed) return;
    for (const task of this.backend.claimIds(ids, WORKER_ID, LEASE_MS)) await this.run(task);
    if (!insideHandler.getStore()) {
      while (this.running.size > 0) await Promise.all([...this.running]);
    }
  }

  private async run(task: ClaimedTask): Promise<void> {
    const attempt = new RunningTask(task);
    const done = insideHandler.run(true, () => runTask(this.deps, attempt).then(() => {}));
    this.running.add(done);
    this.attempts.add(attempt);
    try {
      await done;
    } finally {
      this.running.delete(done);
      this.attempts.delete(attempt);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('test app');
  }
}

/** A test app: see TestApp and docs/testing.md. */
export function createTestApp(options: TestAppOptions = {}): TestApp {
  return new TestApp(options);
}
