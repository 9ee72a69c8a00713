/** A queued item and how to answer its caller. */
export interface Pending<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/** When an item that found the line idle goes out: after the current microtasks, by default. */
export type Defer = (send: () => void) => void;

/**
 * Sends items in batches, one batch in flight at a time (group commit): an
 * item that finds the line idle goes out once `defer` runs (by default after
 * the current microtasks, to pick up its siblings), and items that arrive
 * while a batch is in flight wait for it and leave together. Low latency when
 * quiet, few round trips when busy. Another command may also carry queued
 * items itself (take()): the batch ack rides on the next claim.
 */
export class GroupCommit<T, R> {
  private queue: Array<Pending<T, R>> = [];
  private busy = false;
  private scheduled = false;

  /** `send` stores one batch and returns one result per item, in order. */
  constructor(
    private readonly send: (items: T[]) => Promise<R[]>,
    private readonly maxBatch: number,
    private readonly defer: Defer = queueMicrotask,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.busy && !this.scheduled) {
        this.scheduled = true;
        this.defer(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  /** Hands up to `max` queued items to a caller that sends them itself and answers them. */
  take(max: number): Array<Pending<T, R>> {
    return this.queue.length === 0 ? [] : this.queue.splice(0, max);
  }

  /** Sends what is queued now, and resolves once it and every batch before it are stored. */
  async drain(): Promise<void> {
    if (this.busy) return this.waitIdle();
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.send(batch.map((entry) => entry.item));
          batch.forEach((entry, i) => entry.resolve(results[i]!));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      this.busy = false;
      for (const idle of this.idle.splice(0)) idle();
    }
  }

  private readonly idle: Array<() => void> = [];

  private waitIdle(): Promise<void> {
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
