interface Job {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces the writes that arrive in one event-loop turn (say, 50 workers
 * finishing their tasks) into one IMMEDIATE transaction: each transaction
 * costs a lock round and a WAL append, so batching them is most of the
 * throughput. Callers still get their own result, after the commit.
 */
export class WriteBatch {
  private jobs: Job[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  /** `commit` runs a function in one write transaction and returns its result. */
  constructor(private readonly commit: <T>(fn: () => T) => T) {}

  run<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ op, resolve: resolve as (value: unknown) => void, reject });
      // setImmediate, not a microtask: it waits for every promise chain of this turn
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits whatever is queued, now (close() calls it before closing the database). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const jobs = this.jobs;
    this.jobs = [];
    if (jobs.length === 0) return;
    let results: unknown[];
    try {
      results = this.commit(() => jobs.map((job) => job.op()));
    } catch (error) {
      if (jobs.length === 1 || isBusy(error)) {
        for (const job of jobs) job.reject(error);
        return;
      }
      // the batch rolled back: one bad write must not fail the others, so each gets its own transaction
      for (const job of jobs) {
        try {
          job.resolve(this.commit(job.op));
        } catch (own) {
          job.reject(own);
        }
      }
      return;
    }
    jobs.forEach((job, i) => job.resolve(results[i]));
  }
}

/** The lock stayed taken past busy_timeout: retrying each write would only wait that long again. */
function isBusy(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } })?.cause ?? error;
  const code = (cause as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
