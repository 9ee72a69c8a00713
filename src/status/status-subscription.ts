import type { StatusEvent } from './status-event.js';

/** Why a subscription stopped yielding. */
export type SubscriptionEnd = 'terminal' | 'closed' | 'gone';

/**
 * One local subscriber's mailbox of one slot: it holds only the newest
 * undelivered version, so a slow reader skips intermediate versions (latest
 * wins) yet always ends with the terminal one, which is the last version.
 *
 * States: open → ended ('terminal' once the terminal event was taken or was
 * already behind `afterVersion`; 'closed' by the reader or the hub; 'gone' when
 * the task disappeared, e.g. its result expired).
 */
export class StatusSubscription implements AsyncIterable<StatusEvent> {
  private pending?: StatusEvent;
  /** Highest version handed out (or skipped by `afterVersion`). */
  private delivered: number;
  private waiter?: (event: StatusEvent | null) => void;
  private ended?: SubscriptionEnd;

  constructor(
    readonly taskId: string,
    afterVersion: number,
    private readonly release: (subscription: StatusSubscription) => void,
  ) {
    this.delivered = afterVersion;
  }

  /** Set once the subscription yields nothing more. */
  get endReason(): SubscriptionEnd | undefined {
    return this.ended;
  }

  /** The hub's entry point: keeps `event` if it is newer than what this reader has or holds. */
  offer(event: StatusEvent): void {
    if (this.ended) return;
    if (event.version <= this.delivered) {
      // The reader resumed past the terminal version: nothing more will come.
      if (event.terminal) this.end('terminal');
      return;
    }
    if (this.pending && event.version <= this.pending.version) return;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake(this.take(event));
      return;
    }
    this.pending = event;
  }

  /** The next (newest undelivered) event; null once ended. */
  next(): Promise<StatusEvent | null> {
    const ready = this.poll();
    if (ready || this.ended) return Promise.resolve(ready ?? null);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The newest undelivered event if one is waiting, without waiting. */
  poll(): StatusEvent | undefined {
    const event = this.pending;
    if (!event) return undefined;
    this.pending = undefined;
    return this.take(event);
  }

  /** Stops the subscription and lets the hub drop its backend subscription if nobody else listens. */
  close(): void {
    this.end('closed');
  }

  /** Ends the subscription from the hub's side. */
  end(reason: SubscriptionEnd): void {
    if (this.ended) return;
    this.ended = reason;
    this.pending = undefined;
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.(null);
    this.release(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StatusEvent> {
    try {
      for (;;) {
        const event = await this.next();
        if (!event) return;
        yield event;
      }
    } finally {
      this.close();
    }
  }

  private take(event: StatusEvent): StatusEvent {
    this.delivered = event.version;
    if (event.terminal) this.end('terminal');
    return event;
  }
}
