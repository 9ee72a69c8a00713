import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Backend, ClaimedTask, Unsubscribe } from './backend.js';
import type { BeatHandle } from './beat/beat-loop.js';
import { sleep, systemClock } from './clock.js';
import { repeatEvery } from './repeat.js';
import { BrokerError, ConfigError, ShutdownError, TaskRevokedError, WorkerLostError } from './errors.js';
import type { LeaseKeeper, LeaseKeeperOptions } from './leases/lease-keeper.js';
import { LoopLeaseKeeper } from './leases/loop-lease-keeper.js';
import { ThreadLeaseKeeper } from './leases/thread-lease-keeper.js';
import { trackClosed, trackOpened } from './resources.js';
import { runTask, RunningTask, type RunDependencies } from './run-task.js';
import { monotonicMs, PrefetchBuffer } from './prefetch.js';
import type { AttemptEnd } from './instrumentation.js';
import { WorkerReporter, type ReporterOptions } from './admin/worker-reporter.js';
import { HEARTBEAT_MS } from './admin/bookkeeping-keys.js';

export interface WorkerOptions {
  /** Tasks run at once (default 10). */
  concurrency?: number;
  /**
   * Claimed tasks that may wait for a free slot beyond `concurrency`, so one
   * claim brings several short tasks (default the larger of 16 and
   * 4 × concurrency; 0: none). Only while tasks are short: as many as the
   * slots clear in about 2 ms, none until a first task has finished; tasks
   * that wait 50 ms (behind a long one) go back to their queue for other
   * workers (see core/prefetch.ts). A waiting task is leased and already
   * STARTED in the broker.
   */
  prefetch?: number;
  /** Queues to take tasks from, in priority order (default ['default']). */
  queues?: string[];
  /** How long a claimed task stays leased without renewal (default 10000 ms); renewed every third of it. */
  leaseMs?: number;
  /**
   * Renew leases from a worker thread with its own broker connection, so a
   * handler that blocks the event loop keeps its lease (default true; the
   * memory broker always renews on the event loop).
   */
  leaseThread?: boolean;
  /**
   * The lease thread stops renewing once the event loop has not turned for
   * this long, so a wedged process cannot hold its tasks for ever; other
   * workers then take them over (default 120000 ms).
   */
  loopStallLimitMs?: number;
  /** On stop, how long running tasks may take to finish before they are released (default 10000 ms). */
  graceMs?: number;
  /** How long one claim waits for work before the loop looks around again (default 2000 ms). */
  claimWaitMs?: number;
  /** How often to look for tasks whose worker died (default 2000 ms). */
  rescueIntervalMs?: number;
  /** How often to delete expired results (default 60000 ms). */
  pruneIntervalMs?: number;
  /** How often to raise the priorities aging tasks are owed (TaskOptions.aging; default 1000 ms). */
  agingIntervalMs?: number;
  /**
   * Stop gracefully on SIGTERM and SIGINT (default true); a second signal
   * releases running tasks at once. After a signal-driven stop the app's
   * broker connections are closed too, so the process exits by itself.
   */
  handleSignals?: boolean;
  /** Identifies this worker in leases (default host:pid:random). */
  id?: string;
  /**
   * Also run a beat loop over the app's schedules while the worker runs
   * (default false). Any number of workers may: each tick is enqueued once.
   */
  beat?: boolean;
  /**
   * Heartbeat into the broker's worker registry and report throughput,
   * queue depth and attempts for the dashboard and `errand inspect`
   * (default true). Writes are batched: about one a second.
   */
  report?: boolean | Partial<ReporterOptions>;
}

export type WorkerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * Claims tasks and runs them, up to `concurrency` at once.
 *
 * States: idle → starting (connecting; retried while the broker is
 * unreachable) → running → stopping (stop or signal: no more
 * claims; running tasks get `graceMs`, then are aborted and released) →
 * stopped. Beside the claim loop run the lease keeper (renews leases from a
 * thread, or the event loop on memory; aborts tasks whose lease was lost)
 * and two timers: the rescuer (requeues tasks of dead workers) and the
 * pruner (drops expired results).
 */
export class Worker {
  readonly id: string;
  private readonly concurrency: number;
  private readonly queues: string[];
  private readonly leaseMs: number;
  private readonly graceMs: number;
  private readonly claimWaitMs: number;
  /** Deliveries whose handler runs: these count against `concurrency`. */
  private readonly active = new Map<string, RunningTask>();
  /** Every delivery until its outcome is recorded; recording overlaps the next claim. */
  private readonly unrecorded = new Set<Promise<unknown>>();
  /** Claimed deliveries waiting for a slot (leased, not running). */
  private readonly prefetched: PrefetchBuffer;
  private readonly stopClaiming = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly leases: LeaseKeeper;
  private readonly reporter?: WorkerReporter;
  private readonly onAttempted?: (task: ClaimedTask, end: AttemptEnd) => void;
  private readonly signalHandler = (): void => this.onSignal();
  private slotFreed?: () => void;
  private loop?: Promise<void>;
  private stopping?: Promise<void>;
  private starting?: Promise<void>;
  private unsubscribeRevocations?: Unsubscribe;
  private beatLoop?: BeatHandle;
  private currentState: WorkerState = 'idle';

  constructor(
    private readonly deps: RunDependencies,
    private readonly options: WorkerOptions = {},
    /** Runs after a stop caused by SIGTERM/SIGINT: the app closes its broker connections so the process can exit. */
    private readonly afterSignalStop: () => Promise<void> = async () => {},
    /** Starts the app's beat loop (for `beat: true`). */
    private readonly startBeat?: () => BeatHandle,
  ) {
    this.id = options.id ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.concurrency = options.concurrency ?? 10;
    this.queues = options.queues ?? ['default'];
    this.leaseMs = options.leaseMs ?? 10_000;
    this.graceMs = options.graceMs ?? 10_000;
    this.claimWaitMs = options.claimWaitMs ?? 2000;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new ConfigError(`worker concurrency must be a whole number >= 1, got ${this.concurrency}`);
    }
    const prefetch = options.prefetch ?? Math.max(16, 4 * this.concurrency);
    if (!Number.isInteger(prefetch) || prefetch < 0) {
      throw new ConfigError(`worker prefetch must be a whole number >= 0, got ${prefetch}`);
    }
    this.prefetched = new PrefetchBuffer(prefetch, this.concurrency, (tasks) => void this.giveBack(tasks));
    if (this.queues.length === 0) throw new ConfigError('a worker needs at least one queue');
    if (options.beat && !startBeat) throw new ConfigError('beat: true needs a worker made by app.worker()');
    if (!(this.leaseMs >= 100)) throw new ConfigError(`leaseMs must be at least 100, got ${this.leaseMs}`);
    const stallLimitMs = options.loopStallLimitMs ?? 120_000;
    if (!(stallLimitMs >= this.leaseMs)) throw new ConfigError(`loopStallLimitMs must be at least leaseMs, got ${stallLimitMs}`);
    const keeper: LeaseKeeperOptions = {
      leaseMs: this.leaseMs,
      onLost: (ids) => {
        for (const id of ids) {
          this.prefetched.drop(id);
          this.active.get(id)?.abort('lost', new WorkerLostError(`lease on task ${id} was lost`));
        }
      },
      onError: (error) => this.deps.logger.error({ workerId: this.id, err: error }, 'lease renewal failed'),
    };
    if (options.report !== false) {
      const tuning = typeof options.report === 'object' ? options.report : {};
      const day = 24 * 60 * 60 * 1000;
      this.reporter = new WorkerReporter(
        deps.backend,
        {
          id: this.id,
          queues: this.queues,
          concurrency: this.concurrency,
          beat: options.beat ?? false,
          running: () => this.active.values(),
        },
        deps.clock ?? systemClock,
        deps.logger,
        { historyRetentionMs: day, attemptTtlMs: day, flushMs: 1000, heartbeatMs: HEARTBEAT_MS, ...tuning },
      );
      const reporter = this.reporter;
      this.onAttempted = (task, end) => reporter.attempted(task, end);
    }
    const spec = deps.backend.spec;
    this.leases =
      spec && (options.leaseThread ?? true)
        ? new ThreadLeaseKeeper(deps.backend, spec, {
            ...keeper,
            stallLimitMs,
            logger: deps.logger,
            capacity: this.concurrency + prefetch,
          })
        : new LoopLeaseKeeper(deps.backend, keeper);
  }

  get state(): WorkerState {
    return this.currentState;
  }

  /** How many tasks are running now. */
  get running(): number {
    return this.active.size;
  }

  /**
   * Connects to the broker and starts claiming. While the broker cannot be
   * reached (BrokerError) it waits and tries again, backing off from 200 ms
   * to 5 s and logging each failure; stop() meanwhile ends the wait and
   * start() rejects with ShutdownError. Any other error rejects at once and
   * leaves the worker idle (startable).
   */
  async start(): Promise<void> {
    if (this.currentState !== 'idle') throw new ConfigError(`worker cannot start: it is ${this.currentState}`);
    this.currentState = 'starting';
    trackOpened(this, `worker ${this.id} (queues ${this.queues.join(', ')})`);
    this.starting = this.connectWithRetry();
    try {
      await this.starting;
    } catch (error) {
      if (this.state === 'idle') trackClosed(this); // connecting failed: startable again, not open
      throw error;
    } finally {
      this.starting = undefined;
    }
    this.currentState = 'running';
    this.every(this.options.rescueIntervalMs ?? 2000, () => this.rescue());
    this.every(this.options.pruneIntervalMs ?? 60_000, () => this.prune());
    const { backend } = this;
    if (backend.agePriorities !== undefined) {
      this.every(this.options.agingIntervalMs ?? 1000, async () => void (await backend.agePriorities!()));
    }
    if (this.options.handleSignals ?? true) {
      process.on('SIGTERM', this.signalHandler);
      process.on('SIGINT', this.signalHandler);
    }
    this.loop = this.claimLoop();
    await this.reporter
      ?.start()
      .catch((error: unknown) => this.deps.logger.warn({ workerId: this.id, err: error }, 'worker heartbeat failed; retrying'));
    if (this.options.beat) this.beatLoop = this.startBeat?.();
    this.deps.logger.info({ workerId: this.id, queues: this.queues, concurrency: this.concurrency }, 'worker started');
  }

  private async connectWithRetry(): Promise<void> {
    const stopped = this.stopClaiming.signal;
    for (let failures = 1; ; failures++) {
      let failure: unknown;
      try {
        await this.connect();
      } catch (error) {
        failure = error ?? new Error('connect failed');
      }
      if (stopped.aborted) {
        await this.leases.stop();
        await this.disconnect();
        throw new ShutdownError('the worker was stopped before it started');
      }
      if (failure === undefined) return;
      await this.disconnect();
      if (!(failure instanceof BrokerError)) {
        this.currentState = 'idle';
        throw failure;
      }
      const retryMs = Math.min(5000, 100 * 2 ** failures);
      this.deps.logger.warn({ workerId: this.id, err: failure.message, retryMs }, 'broker unreachable; worker start will retry');
      await sleep(retryMs, stopped);
      if (stopped.aborted) throw new ShutdownError('the worker was stopped before it started');
    }
  }

  private async disconnect(): Promise<void> {
    await this.unsubscribeRevocations?.().catch(() => {});
    this.unsubscribeRevocations = undefined;
  }

  private async connect(): Promise<void> {
    this.unsubscribeRevocations = await this.backend.subscribeRevocations((id) => {
      // a prefetched task is REVOKED in the broker already: it just never starts
      if (this.prefetched.drop(id)) this.leases.remove(id);
      this.active.get(id)?.abort('revoked', new TaskRevokedError(id));
    });
    await this.rescue();
    await this.leases.start();
  }

  /** Stops claiming, lets running tasks finish within graceMs, releases the rest. */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.graceMs ?? this.graceMs);
    return this.stopping;
  }

  private get backend(): Backend {
    return this.deps.backend;
  }

  private async claimLoop(): Promise<void> {
    let failures = 0;
    while (this.currentState === 'running') {
      // Claims fill the free slots and the prefetch buffer, once it is half empty.
      const allowance = this.prefetched.allowance();
      const waiting = this.prefetched.size;
      const limit = waiting > allowance / 2 ? 0 : this.concurrency - this.active.size + allowance - waiting;
      if (limit <= 0 || this.unrecorded.size >= 2 * this.concurrency) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        // Tasks finishing together free their slots in one burst: claim for all of them at once.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      let claimed: ClaimedTask[];
      try {
        claimed = await this.backend.claim({
          workerId: this.id,
          queues: this.queues,
          limit,
          leaseMs: this.leaseMs,
          waitMs: this.claimWaitMs,
          signal: this.stopClaiming.signal,
        });
        failures = 0;
      } catch (error) {
        if (this.currentState !== 'running') break;
        failures++;
        this.deps.logger.error({ workerId: this.id, err: error }, 'claim failed; backing off');
        await sleep(Math.min(5000, 100 * 2 ** failures), this.stopClaiming.signal);
        continue;
      }
      for (const task of claimed) {
        if (this.currentState !== 'running') await this.backend.release(task).catch(() => {});
        else {
          this.leases.add(task);
          if (this.active.size < this.concurrency) this.launch(task);
          else if (this.prefetched.allowance() > 0) this.prefetched.push(task);
          else void this.giveBack([task]); // tasks went stale while this claim waited
        }
      }
    }
  }

  /** Runs a leased delivery; a prefetched one takes its slot when it ends (not the claim loop, which may be waiting). */
  private launch(task: ClaimedTask): void {
    const running = new RunningTask(task);
    const startedAt = monotonicMs();
    this.active.set(task.id, running);
    void running.settled.then(() => {
      this.prefetched.observe(monotonicMs() - startedAt);
      if (this.active.get(task.id) === running) {
        this.active.delete(task.id);
        this.leases.remove(task.id);
      }
      const next = this.currentState === 'running' && this.active.size < this.concurrency ? this.prefetched.shift() : undefined;
      if (next) this.launch(next);
      this.freeSlot();
    });
    const done: Promise<unknown> = runTask(this.deps, running, this.onAttempted)
      .catch((error: unknown) => {
        // The broker failed while recording: the lease will expire and the task run again.
        this.deps.logger.error({ taskId: task.id, err: error }, 'could not record task outcome');
      })
      .finally(() => {
        running.markSettled();
        this.unrecorded.delete(done);
        this.freeSlot();
      });
    this.unrecorded.add(done);
  }

  /** Prefetched deliveries go back to their queue, attempt uncounted, for any worker to take. */
  private async giveBack(tasks: ClaimedTask[]): Promise<void> {
    await Promise.all(
      tasks.map((task) => {
        this.leases.remove(task.id);
        return this.backend.release(task).catch(() => {});
      }),
    );
  }

  private freeSlot(): void {
    this.slotFreed?.();
    this.slotFreed = undefined;
  }

  private async rescue(): Promise<void> {
    const n = await this.backend.rescueExpired();
    if (n > 0) this.deps.logger.warn({ workerId: this.id, count: n }, 'requeued tasks whose worker stopped responding');
  }

  private async prune(): Promise<void> {
    await this.backend.prune();
  }

  /** Runs `fn` every `ms`, one call at a time, logging its failures. */
  private every(ms: number, fn: () => Promise<void>): void {
    const log = (error: unknown): void => this.deps.logger.error({ workerId: this.id, err: error }, 'worker maintenance failed');
    this.timers.push(repeatEvery(ms, fn, log));
  }

  private onSignal(): void {
    if (this.currentState === 'stopping') {
      this.abortAll();
      return;
    }
    void this.stop()
      .then(() => this.afterSignalStop())
      .catch((error: unknown) => this.deps.logger.error({ workerId: this.id, err: error }, 'closing after a signal failed'));
  }

  private abortAll(): void {
    for (const running of this.active.values()) running.abort('shutdown', new ShutdownError());
  }

  private async shutdown(graceMs: number): Promise<void> {
    if (this.currentState === 'idle' || this.currentState === 'starting') {
      this.stopClaiming.abort();
      await this.starting?.catch(() => {});
      this.currentState = 'stopped';
      trackClosed(this);
      return;
    }
    this.currentState = 'stopping';
    await this.beatLoop?.stop();
    this.stopClaiming.abort();
    this.freeSlot();
    await this.loop;
    await this.giveBack(this.prefetched.takeAll());
    const all = (): Promise<unknown> => Promise.all([...this.unrecorded]);
    const grace = new AbortController();
    await Promise.race([all(), sleep(graceMs, grace.signal)]);
    grace.abort();
    this.abortAll();
    await all();
    for (const timer of this.timers) clearInterval(timer);
    await this.reporter?.stop();
    await this.leases.stop();
    process.off('SIGTERM', this.signalHandler);
    process.off('SIGINT', this.signalHandler);
    await this.unsubscribeRevocations?.();
    this.currentState = 'stopped';
    trackClosed(this);
    this.deps.logger.info({ workerId: this.id }, 'worker stopped');
  }
}
