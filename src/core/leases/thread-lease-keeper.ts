import { Worker as Thread } from 'node:worker_threads';
import type { Backend, BackendSpec, ClaimedTask, Delivery } from '../backend.js';
import type { Logger } from '../logger.js';
import { siblingModule } from '../module-url.js';
import { renewalIntervalMs, type LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.js';
import { LeaseTable } from './lease-table.js';
import { LoopLeaseKeeper } from './loop-lease-keeper.js';
import type { FromLeaseThread, LeaseThreadData, ToLeaseThread } from './thread-protocol.js';

export interface ThreadLeaseKeeperOptions extends LeaseKeeperOptions {
  /** Renewal stops once the event loop has not turned for this long (default 120000 ms). */
  stallLimitMs: number;
  logger: Logger;
  /**
   * How many deliveries the shared lease table holds: the worker's running
   * and prefetched ones (default 256). Any beyond are posted to the thread.
   */
  capacity?: number;
}

const DEFAULT_CAPACITY = 256;

/** Test hook: sees each lease thread as it is spawned (to watch what is posted to it). */
export const leaseThreadProbe: { spawned?: (thread: Thread) => void } = {};

/** How long the thread may take to open its broker connection before the worker renews on its own loop. */
const START_TIMEOUT_MS = 15_000;

/**
 * Renews leases from a worker thread with its own broker connection (see
 * lease-thread.ts); the worker writes which deliveries run into a table in
 * shared memory (lease-table.ts), and posts only those that do not fit. If
 * the thread cannot start or dies, renewal falls back to the event loop.
 *
 * States: idle → starting (the thread boots; the table fills meanwhile; the
 * loop renews too) → threaded (the thread renews) | looping (fallback: all
 * leases on the event loop) → stopped.
 */
export class ThreadLeaseKeeper implements LeaseKeeper {
  private readonly tasks = new Map<string, ClaimedTask>();
  /** The deliveries the thread renews, written in place: no message. */
  private readonly table: LeaseTable;
  /** Deliveries the table could not hold: posted to the thread instead, once per turn of the loop. */
  private readonly added = new Map<string, Delivery>();
  private readonly removed = new Set<string>();
  /** Ids the thread holds (posted as added, not yet as removed). */
  private readonly posted = new Set<string>();
  private flushQueued = false;
  private thread?: Thread;
  private isReady = false;
  private starting: Promise<void> = Promise.resolve();
  private fallback?: LoopLeaseKeeper;
  /** Renews on the event loop while the thread starts. */
  private interim?: LoopLeaseKeeper;
  private beat?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly backend: Backend,
    private readonly spec: BackendSpec,
    private readonly options: ThreadLeaseKeeperOptions,
  ) {
    this.table = new LeaseTable(options.capacity ?? DEFAULT_CAPACITY);
  }

  /**
   * Starts the thread and returns without waiting for it: the thread opens its
   * own broker connection (a few hundred ms) while the worker already claims.
   * What is posted meanwhile waits in the thread's queue; a thread that
   * cannot start hands every lease to the event loop.
   */
  async start(): Promise<void> {
    let thread: Thread;
    try {
      thread = this.spawn();
    } catch (error) {
      this.onStartFailure(error);
      return;
    }
    this.thread = thread;
    leaseThreadProbe.spawned?.(thread);
    // Until the thread renews, the event loop does too: a lease shorter than
    // the thread's boot must not expire meanwhile.
    this.interim = new LoopLeaseKeeper(this.backend, this.loopOptions);
    await this.interim.start();
    this.table.beat();
    this.beat = setInterval(() => {
      this.flush();
      this.table.beat();
    }, renewalIntervalMs(this.options.leaseMs));
    this.beat.unref();
    this.starting = this.whenReady(thread).then(
      () => this.endInterim(),
      (error: unknown) => {
        if (this.thread !== thread) return;
        this.thread = undefined;
        clearInterval(this.beat);
        this.onStartFailure(error);
      },
    );
  }

  /** Settles once the thread renews, or once renewal has fallen back to the event loop (for tests). */
  get ready(): Promise<void> {
    return this.starting;
  }

  /**
   * The thread sees it in the table at once; one that does not fit is posted
   * in a microtask: after the claim loop has added the whole batch, and
   * before any handler of the batch starts (handlers start in a later
   * microtask), so a handler that blocks at once is covered either way.
   */
  add(task: ClaimedTask): void {
    this.tasks.set(task.id, task);
    if (this.fallback) return this.fallback.add(task);
    this.interim?.add(task);
    const delivery: Delivery = { id: task.id, workerId: task.workerId, attempt: task.attempt };
    if (this.table.set(delivery)) {
      // an earlier delivery of this id went by message: the thread drops that copy
      this.added.delete(task.id);
      if (this.posted.has(task.id)) this.removed.add(task.id);
      return;
    }
    this.removed.delete(task.id);
    this.added.set(task.id, delivery);
    this.queueFlush();
  }

  remove(id: string): void {
    if (!this.tasks.delete(id)) return;
    if (this.fallback) return this.fallback.remove(id);
    this.interim?.remove(id);
    // freed in place: the thread's next renewal no longer sees it
    if (this.table.delete(id)) return;
    this.added.delete(id);
    // No message of its own: it rides with the next batch or beat. Until then
    // the thread may renew a finished delivery, which the broker refuses.
    if (this.posted.has(id)) this.removed.add(id);
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.added.size === 0 && this.removed.size === 0) return;
    for (const id of this.removed) this.posted.delete(id);
    for (const id of this.added.keys()) this.posted.add(id);
    this.post({ type: 'leases', add: [...this.added.values()], remove: [...this.removed] });
    this.added.clear();
    this.removed.clear();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.beat);
    this.tasks.clear();
    this.table.clear();
    this.added.clear();
    this.removed.clear();
    this.posted.clear();
    await this.fallback?.stop();
    await this.endInterim();
    const thread = this.thread;
    if (!thread) return;
    this.thread = undefined;
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    thread.postMessage({ type: 'stop' } satisfies ToLeaseThread);
    // The thread closes its connection and ends; one that hangs is ended for it.
    const timer = setTimeout(() => void thread.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): Thread {
    const workerData: LeaseThreadData = {
      spec: this.spec,
      leaseMs: this.options.leaseMs,
      intervalMs: renewalIntervalMs(this.options.leaseMs),
      stallLimitMs: this.options.stallLimitMs,
      table: this.table.buffer,
    };
    const entry = siblingModule(import.meta.url, 'lease-thread');
    // From source (.ts) the thread must load TypeScript itself: Node 20 does
    // not pass the parent's loader hooks on to worker threads.
    const thread = entry.endsWith('.ts')
      ? new Thread(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, {
          eval: true,
          workerData,
        })
      : new Thread(new URL(entry), { workerData });
    thread.unref();
    return thread;
  }

  /** Resolves at the thread's 'ready'; rejects if it fails, exits or stays silent first. */
  private whenReady(thread: Thread): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void thread.terminate();
        reject(new Error(`no answer within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const fail = (error: Error | string): void => {
        clearTimeout(timer);
        void thread.terminate();
        reject(typeof error === 'string' ? new Error(error) : error);
      };
      const exitedEarly = (): void => fail('the lease thread exited before it was ready');
      thread.once('error', fail);
      thread.once('exit', exitedEarly);
      thread.on('message', (message: FromLeaseThread) => {
        if (message.type === 'ready') {
          this.isReady = true;
          clearTimeout(timer);
          thread.off('error', fail);
          thread.off('exit', exitedEarly);
          thread.on('error', (error) => this.options.logger.error({ err: error }, 'lease thread failed'));
          thread.once('exit', () => void this.onExit(thread));
          resolve();
        } else if (message.type === 'error' && !this.isReady) {
          fail(message.message);
        } else {
          this.onMessage(message);
        }
      });
    });
  }

  private onStartFailure(error: unknown): void {
    if (this.stopping) return;
    this.table.clear(); // no thread reads it
    this.options.logger.warn({ err: error }, 'lease thread did not start; renewing leases on the event loop');
    // the interim keeper holds every lease already: it stays
    if (this.interim) [this.fallback, this.interim] = [this.interim, undefined];
    else void this.fallBack();
  }

  private async endInterim(): Promise<void> {
    const interim = this.interim;
    this.interim = undefined;
    await interim?.stop();
  }

  private onMessage(message: FromLeaseThread): void {
    switch (message.type) {
      case 'lost':
        this.onLeasesLost(message.ids, true);
        return;
      case 'error':
        this.options.onError(new Error(message.message));
        return;
      case 'stalled':
        this.options.logger.error(
          { taskIds: message.ids, blockedMs: message.sinceMs },
          'the event loop is blocked: leases are no longer renewed, so other workers may take these tasks over',
        );
        return;
      default:
        return;
    }
  }

  /** The thread ended while the worker still runs: renew on the event loop from now on. */
  private async onExit(thread: Thread): Promise<void> {
    if (this.stopping || this.thread !== thread) return;
    this.thread = undefined;
    this.options.logger.error({}, 'lease thread exited; renewing leases on the event loop');
    await this.fallBack();
  }

  private async fallBack(): Promise<void> {
    if (this.stopping) return;
    this.table.clear();
    this.fallback = new LoopLeaseKeeper(this.backend, this.loopOptions);
    for (const task of this.tasks.values()) this.fallback.add(task);
    await this.fallback.start();
  }

  /** The options of a keeper on the event loop: what it finds lost is freed here too. */
  private get loopOptions(): LeaseKeeperOptions {
    return { ...this.options, onLost: (ids) => this.onLeasesLost(ids, false) };
  }

  /** Leases found lost, by the thread or on the loop: the thread stops renewing them and the worker hears once. */
  private onLeasesLost(ids: string[], byThread: boolean): void {
    for (const id of ids) {
      this.table.delete(id);
      this.added.delete(id);
      if (byThread)
        this.posted.delete(id); // the thread dropped it
      else if (this.posted.has(id)) this.removed.add(id);
    }
    const lost = ids.filter((id) => this.tasks.delete(id));
    if (lost.length > 0) this.options.onLost(lost);
  }

  private post(message: ToLeaseThread): void {
    this.thread?.postMessage(message);
  }
}
