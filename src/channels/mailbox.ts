import type { ChannelMessage } from './channel-layer.js';

/**
 * One channel's bounded buffer. When full, the oldest message is dropped (a
 * slow consumer sees the newest messages, as a live view wants) and counted
 * in `dropped`. States: open → closed; closing ends the reader at once and
 * discards what was not yet read.
 */
export class Mailbox {
  private readonly queue: ChannelMessage[] = [];
  private head = 0;
  private waiter?: (message: ChannelMessage | null) => void;
  private reading = false;
  private closed = false;
  dropped = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(message: ChannelMessage): void {
    if (this.closed) return;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake(message);
      return;
    }
    if (this.size >= this.capacity) {
      this.head++;
      this.dropped++;
    }
    this.queue.push(message);
    // Compact now and then: a reader that never catches up must not grow the array for ever.
    if (this.head >= this.capacity) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The next message, or null once closed. */
  next(): Promise<ChannelMessage | null> {
    if (this.closed) return Promise.resolve(null);
    if (this.size > 0) {
      const message = this.queue[this.head]!;
      this.head++;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      return Promise.resolve(message);
    }
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Marks the mailbox as read by one iterator; false if it already is. */
  claimReader(): boolean {
    if (this.reading) return false;
    this.reading = true;
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.(null);
  }
}
