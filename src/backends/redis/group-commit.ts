/**
 * Sends items in batches, one batch in flight at a time (group commit): an
 * item that finds the line idle goes out at once (after the current
 * microtasks, to pick up its siblings), and items that arrive while a batch
 * is in flight wait for it and leave together. Low latency when quiet, few
 * round trips when busy.
 */
export class GroupCommit<T, R> {
  private queue: Array<{ item: T; resolve: (value: R) => void; reject: (error: unknown) => void }> = [];
  private busy = false;
  private scheduled = false;

  /** `send` stores one batch and returns one result per item, in order. */
  constructor(
    private readonly send: (items: T[]) => Promise<R[]>,
    private readonly maxBatch: number,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.busy && !this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
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
