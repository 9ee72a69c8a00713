import type { TagFeedEntry } from '../../core/backend.js';
import { sleep } from '../../core/clock.js';
import type { TaskInfo } from '../../core/types.js';
import { Listeners } from '../../core/listeners.js';
import type { EventLog, EventRow } from './events.js';

interface StatusEntry {
  listeners: Listeners<TaskInfo>;
  /** Highest version delivered: in-process events can overtake another process's older ones. */
  lastVersion: number;
}

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
  private readonly status = new Map<string, StatusEntry>();
  private readonly revocations = new Listeners<string>();
  private readonly tags = new Map<string, Listeners<TagFeedEntry>>();
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
    this.emitStatus(info);
    if (revoked) this.revocations.emit(info.id);
  }

  subscribeStatus(id: string, listener: (info: TaskInfo) => void): () => void {
    // hand out what is already committed first, so the new listener only gets later events
    this.catchUp();
    let entry = this.status.get(id);
    if (!entry) this.status.set(id, (entry = { listeners: new Listeners(), lastVersion: 0 }));
    const off = entry.listeners.add(listener);
    this.updateTimer();
    return () => {
      off();
      if (entry.listeners.size === 0 && this.status.get(id) === entry) this.status.delete(id);
      this.updateTimer();
    };
  }

  subscribeTag(tag: string, listener: (entry: TagFeedEntry) => void): () => void {
    // like subscribeStatus: the new listener only hears changes committed from now on
    this.catchUp();
    let listeners = this.tags.get(tag);
    if (!listeners) this.tags.set(tag, (listeners = new Listeners()));
    const off = listeners.add(listener);
    this.updateTimer();
    return () => {
      off();
      if (listeners.size === 0 && this.tags.get(tag) === listeners) this.tags.delete(tag);
      this.updateTimer();
    };
  }

  /** This backend just committed tagged changes: tag listeners read them now, in seq order. */
  tagged(): void {
    if (this.tags.size === 0 || this.closed) return;
    try {
      this.catchUp();
    } catch {
      // a failed read: the next poll reads them
      this.behind = true;
    }
  }

  subscribeRevocations(listener: (id: string) => void): () => void {
    this.catchUp();
    const off = this.revocations.add(listener);
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

  private get listening(): boolean {
    return this.status.size > 0 || this.revocations.size > 0 || this.tags.size > 0;
  }

  private updateTimer(): void {
    const wanted = !this.closed && (this.listening || this.wakeups.size > 0);
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
    if (!this.listening) {
      this.lastSeq = this.events.lastSeq();
      return;
    }
    for (const row of this.events.since(this.lastSeq, this.tags.size > 0)) {
      // a listener that subscribes from a listener catches up itself: skip what it delivered
      if (row.seq <= this.lastSeq) continue;
      this.lastSeq = row.seq;
      this.dispatch(row);
    }
  }

  private dispatch(row: EventRow): void {
    let info: TaskInfo | undefined;
    const parsed = (): TaskInfo => (info ??= JSON.parse(row.info) as TaskInfo);
    if (!row.own) {
      if (this.status.has(row.task_id)) this.emitStatus(parsed());
      if (row.revoked) this.revocations.emit(row.task_id);
    }
    if (row.tags === null) return;
    for (const tag of JSON.parse(row.tags) as string[]) {
      const listeners = this.tags.get(tag);
      if (listeners !== undefined && listeners.size > 0) listeners.emit({ cursor: row.seq, info: parsed() });
    }
  }

  private emitStatus(info: TaskInfo): void {
    const entry = this.status.get(info.id);
    if (!entry || info.version <= entry.lastVersion) return;
    entry.lastVersion = info.version;
    entry.listeners.emit(info);
  }
}
