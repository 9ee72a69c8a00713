import { Worker as Thread } from 'node:worker_threads';
import type { Backend, BackendSpec, ClaimedTask } from '../backend.js';
import type { Logger } from '../logger.js';
import { siblingModule } from '../module-url.js';
import { renewalIntervalMs, type LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.js';
import { LoopLeaseKeeper } from './loop-lease-keeper.js';
import type { FromLeaseThread, LeaseThreadData, ToLeaseThread } from './thread-protocol.js';

export interface ThreadLeaseKeeperOptions extends LeaseKeeperOptions {
  /** Renewal stops once the event loop has not turned for this long (default 120000 ms). */
  stallLimitMs: number;
  logger: Logger;
}

/** How long the thread may take to open its broker connection before the worker renews on its own loop. */
const START_TIMEOUT_MS = 15_000;

/**
 * Renews leases from a worker thread with its own broker connection (see
 * lease-thread.ts); the worker only posts which deliveries run. If the
 * thread cannot start or dies, renewal falls back to the event loop.
 *
 * States: idle → threaded (the thread renews) | looping (fallback) → stopped.
 */
export class ThreadLeaseKeeper implements LeaseKeeper {
  private readonly tasks = new Map<string, ClaimedTask>();
  private thread?: Thread;
  private fallback?: LoopLeaseKeeper;
  private beat?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly backend: Backend,
    private readonly spec: BackendSpec,
    private readonly options: ThreadLeaseKeeperOptions,
  ) {}

  async start(): Promise<void> {
    try {
      this.thread = await this.spawn();
    } catch (error) {
      this.options.logger.warn({ err: String(error) }, 'lease thread did not start; renewing leases on the event loop');
      await this.fallBack();
      return;
    }
    const interval = renewalIntervalMs(this.options.leaseMs);
    this.beat = setInterval(() => this.post({ type: 'beat' }), interval);
    this.beat.unref();
  }

  add(task: ClaimedTask): void {
    this.tasks.set(task.id, task);
    if (this.fallback) this.fallback.add(task);
    else this.post({ type: 'add', task });
  }

  remove(id: string): void {
    if (!this.tasks.delete(id)) return;
    if (this.fallback) this.fallback.remove(id);
    else this.post({ type: 'remove', id });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.beat);
    this.tasks.clear();
    await this.fallback?.stop();
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

  private spawn(): Promise<Thread> {
    const interval = renewalIntervalMs(this.options.leaseMs);
    const workerData: LeaseThreadData = {
      spec: this.spec,
      leaseMs: this.options.leaseMs,
      intervalMs: interval,
      stallLimitMs: this.options.stallLimitMs,
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
    let started = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void thread.terminate();
        reject(new Error(`no answer within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const onStartFailure = (error: Error | string): void => {
        clearTimeout(timer);
        void thread.terminate();
        reject(typeof error === 'string' ? new Error(error) : error);
      };
      thread.once('error', onStartFailure);
      thread.on('message', (message: FromLeaseThread) => {
        if (message.type === 'ready') {
          started = true;
          clearTimeout(timer);
          thread.off('error', onStartFailure);
          thread.on('error', (error) => this.options.logger.error({ err: String(error) }, 'lease thread failed'));
          thread.once('exit', () => void this.onExit(thread));
          resolve(thread);
        } else if (message.type === 'error' && !started) {
          onStartFailure(message.message);
        } else {
          this.onMessage(message);
        }
      });
    });
  }

  private onMessage(message: FromLeaseThread): void {
    switch (message.type) {
      case 'lost': {
        const lost = message.ids.filter((id) => this.tasks.delete(id));
        if (lost.length > 0) this.options.onLost(lost);
        return;
      }
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
    this.fallback = new LoopLeaseKeeper(this.backend, this.options);
    for (const task of this.tasks.values()) this.fallback.add(task);
    await this.fallback.start();
  }

  private post(message: ToLeaseThread): void {
    this.thread?.postMessage(message);
  }
}
