import type { TagFeedEntry } from '../../core/backend.js';
import { Listeners } from '../../core/listeners.js';
import type { TaskInfo } from '../../core/types.js';

/** One row of an events table as a change feed reads it (SQLite gives 0/1 for the flags, PostgreSQL booleans). */
export interface ListenerRow {
  seq: number;
  task_id: string;
  revoked: boolean | 0 | 1;
  info: string;
  /** The task's tags as a JSON array, or null when it has none. */
  tags: string | null;
  /** Set when this backend wrote it (its status and revocation listeners already heard it). */
  own: boolean | 0 | 1;
}

interface StatusEntry {
  listeners: Listeners<TaskInfo>;
  /** Highest version delivered: in-process events can overtake another process's older ones. */
  lastVersion: number;
}

/**
 * The listeners of one change feed and the rules for telling them:
 * - status listeners per task id hear each version once, newest wins
 *   (older and duplicate versions are dropped);
 * - own rows skip status and revocation listeners (the backend delivered
 *   them in-process: deliver());
 * - tag listeners hear every tagged row, own ones too, in seq order with cursor = seq.
 * When to read and how far is the feed's business.
 */
export class EventListeners {
  private readonly status = new Map<string, StatusEntry>();
  private readonly revocations = new Listeners<string>();
  private readonly tags = new Map<string, Listeners<TagFeedEntry>>();

  get listening(): boolean {
    return this.status.size > 0 || this.revocations.size > 0 || this.tags.size > 0;
  }

  /** Whether tag listeners exist (tagged rows, own ones too, must then be read). */
  get hasTags(): boolean {
    return this.tags.size > 0;
  }

  subscribeStatus(id: string, listener: (info: TaskInfo) => void): () => void {
    let entry = this.status.get(id);
    if (!entry) this.status.set(id, (entry = { listeners: new Listeners(), lastVersion: 0 }));
    const off = entry.listeners.add(listener);
    return () => {
      off();
      if (entry.listeners.size === 0 && this.status.get(id) === entry) this.status.delete(id);
    };
  }

  subscribeTag(tag: string, listener: (entry: TagFeedEntry) => void): () => void {
    let listeners = this.tags.get(tag);
    if (!listeners) this.tags.set(tag, (listeners = new Listeners()));
    const off = listeners.add(listener);
    return () => {
      off();
      if (listeners.size === 0 && this.tags.get(tag) === listeners) this.tags.delete(tag);
    };
  }

  subscribeRevocations(listener: (id: string) => void): () => void {
    return this.revocations.add(listener);
  }

  /** A transition this backend just committed. */
  deliver(info: TaskInfo, revoked: boolean): void {
    this.emitStatus(info);
    if (revoked) this.revocations.emit(info.id);
  }

  /** One row read from the events table. */
  dispatch(row: ListenerRow): void {
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

  emitStatus(info: TaskInfo): void {
    const entry = this.status.get(info.id);
    if (!entry || info.version <= entry.lastVersion) return;
    entry.lastVersion = info.version;
    entry.listeners.emit(info);
  }

  /** Forgets the status and tag listeners (a closing feed; revocation listeners are kept). */
  clearStatusAndTags(): void {
    this.status.clear();
    this.tags.clear();
  }
}
