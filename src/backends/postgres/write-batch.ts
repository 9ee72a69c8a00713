interface Entry<J> {
  job: J;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** A batch member's own failure: that caller's promise rejects, the rest of the batch commits. */
export class Failed {
  constructor(readonly error: unknown) {}
}

/**
 * Coalesces the writes that arrive in one event-loop turn (say, 50 workers
 * finishing their tasks) into one transaction: each costs round trips, a
 * turn of the events lock and a commit, so batching them is most of the
 * throughput. Callers still get their own result, after the commit (a
 * Failed result rejects that caller only); when the whole batch fails, each
 * write is retried in a transaction of its own, so one bad write does not
 * fail the others.
 */
export class WriteBatch<J> {
  private entries: Array<Entry<J>> = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly running = new Set<Promise<void>>();

  /** `commit` runs jobs in one transaction and returns their results, in order. */
  constructor(private readonly commit: (jobs: J[]) => Promise<unknown[]>) {}

  run<T>(job: J): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.entries.push({ job, resolve: resolve as (value: unknown) => void, reject });
      // setImmediate, not a microtask: it waits for every promise chain of this turn
      this.scheduled ??= setImmediate(() => void this.flush());
    });
  }

  /** Commits whatever is queued, now, and waits for every batch under way (close() calls it). */
  async flush(): Promise<void> {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const entries = this.entries;
    this.entries = [];
    if (entries.length > 0) {
      const done = this.commitEntries(entries).finally(() => this.running.delete(done));
      this.running.add(done);
    }
    await Promise.allSettled([...this.running]);
  }

  private async commitEntries(entries: Array<Entry<J>>): Promise<void> {
    try {
      const results = await this.commit(entries.map((entry) => entry.job));
      entries.forEach((entry, i) => settle(entry, results[i]));
      return;
    } catch (error) {
      if (entries.length === 1) {
        entries[0]!.reject(error);
        return;
      }
    }
    await Promise.all(
      entries.map(async (entry) => {
        try {
          settle(entry, (await this.commit([entry.job]))[0]);
        } catch (own) {
          entry.reject(own);
        }
      }),
    );
  }
}

function settle<J>(entry: Entry<J>, result: unknown): void {
  if (result instanceof Failed) entry.reject(result.error);
  else entry.resolve(result);
}
