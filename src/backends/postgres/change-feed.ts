import type { TagFeedEntry } from '../../core/backend.js';
import type { TaskInfo } from '../../core/types.js';
import { EventListeners } from '../shared/event-listeners.js';

/** One row of the events table as the feed reads it. */
export interface EventRow {
  seq: number;
  task_id: string;
  revoked: boolean;
  info: string;
  tags: string | null;
  own: boolean;
}

/** What the feed needs from the database. */
export interface EventSource {
  /** Events after `seq`, oldest first, at most `limit`: other backends' ones, and with `tagged` this one's tagged ones too. */
  since(seq: number, tagged: boolean, limit: number): Promise<EventRow[]>;
  lastSeq(): Promise<number>;
}

const PAGE = 1000;

/**
 * Who listens to this backend, and how they hear about changes:
 * - our own commits are delivered at once by the backend (deliver);
 * - other processes' commits are read from the events table after `lastSeq`
 *   when a NOTIFY says there are some (sync()), or by the fallback poll;
 * - tag listeners hear every tagged change from the events table, our own
 *   included (read right after our commit), so they hear them in seq
 *   (cursor) order.
 * Reads run one at a time; a sync asked for while one runs is one more read after it.
 */
export class ChangeFeed {
  private readonly listeners = new EventListeners();
  /** The last event read; undefined until someone listens (while nobody does, it is not kept up). */
  private lastSeq: number | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly events: EventSource,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  get listening(): boolean {
    return this.listeners.listening;
  }

  /** A transition this backend just committed. */
  deliver(info: TaskInfo, revoked: boolean): void {
    this.listeners.deliver(info, revoked);
  }

  async subscribeStatus(id: string, listener: (info: TaskInfo) => void): Promise<() => void> {
    await this.start();
    const off = this.listeners.subscribeStatus(id, listener);
    void this.sync();
    return off;
  }

  async subscribeTag(tag: string, listener: (entry: TagFeedEntry) => void): Promise<() => void> {
    await this.start();
    const off = this.listeners.subscribeTag(tag, listener);
    void this.sync();
    return off;
  }

  async subscribeRevocations(listener: (id: string) => void): Promise<() => void> {
    await this.start();
    const off = this.listeners.subscribeRevocations(listener);
    void this.sync();
    return off;
  }

  /** Someone may have committed events: read them (coalesced). */
  sync(): Promise<void> {
    if (this.closed || this.lastSeq === undefined || !this.listening) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.readLoop().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Whether tag listeners exist (our own tagged commits are then read back). */
  get hasTagListeners(): boolean {
    return this.listeners.hasTags;
  }

  close(): void {
    this.closed = true;
    this.listeners.clearStatusAndTags();
  }

  /**
   * Before the first listener: start reading from the newest event (later
   * ones catch up first). What commits while that is read is read once the
   * listener is added (subscribe calls sync() again).
   */
  private async start(): Promise<void> {
    if (!this.listening) {
      const last = await this.events.lastSeq();
      this.lastSeq = Math.max(this.lastSeq ?? 0, last);
      return;
    }
    await this.sync();
  }

  private async readLoop(): Promise<void> {
    do {
      this.again = false;
      try {
        for (;;) {
          if (this.lastSeq === undefined || this.closed || !this.listening) return;
          const rows = await this.events.since(this.lastSeq, this.listeners.hasTags, PAGE);
          for (const row of rows) {
            if (row.seq <= this.lastSeq) continue;
            this.lastSeq = row.seq;
            this.listeners.dispatch(row);
          }
          if (rows.length < PAGE) break;
        }
      } catch (error) {
        // the next notification or poll reads them
        this.onError(error);
        return;
      }
    } while (this.again);
  }
}
