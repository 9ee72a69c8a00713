import { performance } from 'node:perf_hooks';
import type { ClaimedTask } from './backend.js';

/** A prefetched task waits about this long on average before it starts. */
const WAIT_BUDGET_MS = 2;
/** Weight of the newest run time in the running average. */
const SMOOTHING = 0.2;
/** A task that waited this long sits behind a long one: the waiting ones go back to their queue. */
export const STALE_AFTER_MS = 50;

/**
 * Claimed tasks that wait for a free slot, so that one claim brings several
 * short tasks (a broker round trip per batch instead of per task). They are
 * leased like running ones. How many may wait adapts to how long tasks run:
 * as many as the slots clear in about WAIT_BUDGET_MS, up to `max`; none until
 * a first task has finished, and none once tasks take long. When tasks
 * wait longer than STALE_AFTER_MS anyway (a long task among short ones), they
 * are handed to `onStale` (the worker puts them back in their queue for other
 * workers) and nothing is prefetched until a task finishes again.
 */
export class PrefetchBuffer {
  private readonly waiting: Array<{ task: ClaimedTask; since: number }> = [];
  /** Average handler run time in ms (NaN: nothing finished yet; Infinity: tasks went stale). */
  private averageMs = Number.NaN;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly max: number,
    private readonly concurrency: number,
    private readonly onStale: (tasks: ClaimedTask[]) => void,
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  /** How many claimed tasks may wait now. */
  allowance(): number {
    if (this.max === 0 || Number.isNaN(this.averageMs)) return 0;
    if (this.averageMs <= 0) return this.max;
    return Math.min(this.max, Math.floor((WAIT_BUDGET_MS * this.concurrency) / this.averageMs));
  }

  /** A handler ran for `ms`. */
  observe(ms: number): void {
    const known = Number.isFinite(this.averageMs);
    this.averageMs = known ? this.averageMs + SMOOTHING * (ms - this.averageMs) : ms;
  }

  push(task: ClaimedTask): void {
    this.waiting.push({ task, since: monotonicMs() });
    this.timer ??= setTimeout(() => this.check(), STALE_AFTER_MS).unref();
  }

  shift(): ClaimedTask | undefined {
    return this.waiting.shift()?.task;
  }

  /** Takes a waiting task out (revoked, or its lease lost); says whether it was here. */
  drop(id: string): boolean {
    const i = this.waiting.findIndex((entry) => entry.task.id === id);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  /** Empties the buffer (the worker stops, or the tasks went stale: they go back to their queue). */
  takeAll(): ClaimedTask[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.waiting.splice(0).map((entry) => entry.task);
  }

  private check(): void {
    this.timer = undefined;
    const oldest = this.waiting[0];
    if (!oldest) return;
    const waited = monotonicMs() - oldest.since;
    if (waited < STALE_AFTER_MS) {
      this.timer = setTimeout(() => this.check(), STALE_AFTER_MS - waited).unref();
      return;
    }
    this.averageMs = Number.POSITIVE_INFINITY;
    this.onStale(this.takeAll());
  }
}

/** A monotonic clock in ms for run times. */
export const monotonicMs = (): number => performance.now();
