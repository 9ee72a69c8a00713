import type { TagFeedEntry } from '../../core/backend.js';
import { sleep } from '../../core/clock.js';
import type { TaskInfo } from '../../core/types.js';
import { EventListeners } from '../shared/event-listeners.js';
import type { EventLog } from './events.js';

/**
 * Who listens to this backend, and how they hear about changes:
 * - our own commits are delivered at once by the backend (deliver/wake);
 * - other processes' commits are noticed by polling PRAGMA data_version
 *   (a counter read, no I/O) and read from the events table after `lastSeq`.
 * - tag listeners hear every tagged change from the events table, our own
 *   included (read right after our commit: tagged()), so they hear them in
 *   seq (cursor) order: an own change never overtakes another process's older one.
 * One unref'd timer, running only while someone listens or a claim waits.
 */
export class ChangeFeed {
  private readonly listeners = new EventListeners();
  private readonly wakeups = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastSeq = 0;
  private lastDataVersion = -1;
  /** Events not read yet (a read failed): the next poll reads them even without a new commit. */
  private behind = false;
  private closed = false;

  constructor(
    private readonly events: EventLog,
    private readonly dataVersion: () => number,
    private readonly intervalMs: number,
  ) {}

  /** A transition this backend just committed. */
  deliver(info: TaskInfo, revoked: boolean): void {
    this.listeners.deliver(info, revoked);
  }

  subscribeStatus(id: string, listener: (info: TaskInfo) => void): () => void {
    // hand out what is already committed first, so the new listener only gets later events
    this.catchUp();
    const off = this.listeners.subscribeStatus(id, listener);
    this.updateTimer();
    return () => {
      off();
      this.updateTimer();
    };
  }

  subscribeTag(tag: string, listener: (entry: TagFeedEntry) => void): () => void {
    // like subscribeStatus: the new listener only hears changes committed from now on
    this.catchUp();
    const off = this.listeners.subscribeTag(tag, listener);
    this.updateTimer();
    return () => {
      off();
      this.updateTimer();
    };
  }

  /** This backend just committed tagged changes: tag listeners read them now, in seq order. */
  tagged(): void {
    if (!this.listeners.hasTags || this.closed) return;
    try {
      this.catchUp();
    } catch {
      // a failed read: the next poll reads them
      this.behind = true;
    }
  }

  subscribeRevocations(listener: (id: string) => void): () => void {
    this.catchUp();
    const off = this.listeners.subscribeRevocations(listener);
    this.updateTimer();
    return () => {
      off();
      this.updateTimer();
    };
  }

  /** Wakes every waiting claim (something may have become due). */
  wake(): void {
    for (const wake of [...this.wakeups]) wake();
  }

  /** Resolves after `ms`, on wake(), on another process's commit, on abort or on close. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const onWake = (): void => controller.abort();
    this.wakeups.add(onWake);
    signal?.addEventListener('abort', onWake, { once: true });
    this.updateTimer();
    return sleep(ms, controller.signal).finally(() => {
      this.wakeups.delete(onWake);
      signal?.removeEventListener('abort', onWake);
      this.updateTimer();
    });
  }

  close(): void {
    this.closed = true;
    this.updateTimer();
    this.wake();
  }

  private updateTimer(): void {
    const wanted = !this.closed && (this.listeners.listening || this.wakeups.size > 0);
    if (wanted && !this.timer) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    } else if (!wanted && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private poll(): void {
    if (this.closed) return;
    try {
      const version = this.dataVersion();
      if (version === this.lastDataVersion && !this.behind) return;
      this.behind = true; // until the read succeeds: a failed one is retried on the next tick
      this.catchUp();
      this.lastDataVersion = version;
      this.behind = false;
    } catch {
      // a busy or failing read: try again on the next tick
    }
    this.wake();
  }

  /** Delivers events after lastSeq (or just skips them when nobody listens). */
  private catchUp(): void {
    if (!this.listeners.listening) {
      this.lastSeq = this.events.lastSeq();
      return;
    }
    for (const row of this.events.since(this.lastSeq, this.listeners.hasTags)) {
      // a listener that subscribes from a listener catches up itself: skip what it delivered
      if (row.seq <= this.lastSeq) continue;
      this.lastSeq = row.seq;
      this.listeners.dispatch(row);
    }
  }
}
