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
 * One unref'd timer, running only while someone listens or a claim waits.
 */
export class ChangeFeed {
  private readonly status = new Map<string, StatusEntry>();
  private readonly revocations = new Listeners<string>();
  private readonly wakeups = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastSeq = 0;
  private lastDataVersion = -1;
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
    return this.status.size > 0 || this.revocations.size > 0;
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
      if (version === this.lastDataVersion) return;
      this.lastDataVersion = version;
      this.catchUp();
    } catch {
      // a busy or failing read: try again on the next tick
    }
    this.wake();
  }

  /** Delivers other processes' events after lastSeq (or just skips them when nobody listens). */
  private catchUp(): void {
    if (!this.listening) {
      this.lastSeq = this.events.lastSeq();
      return;
    }
    for (const row of this.events.since(this.lastSeq)) {
      this.lastSeq = row.seq;
      this.dispatch(row);
    }
  }

  private dispatch(row: EventRow): void {
    if (this.status.has(row.task_id)) this.emitStatus(JSON.parse(row.info) as TaskInfo);
    if (row.revoked) this.revocations.emit(row.task_id);
  }

  private emitStatus(info: TaskInfo): void {
    const entry = this.status.get(info.id);
    if (!entry || info.version <= entry.lastVersion) return;
    entry.lastVersion = info.version;
    entry.listeners.emit(info);
  }
}
