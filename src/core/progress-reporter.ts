import type { Backend, ClaimedTask } from './backend.js';
import type { TaskProgress } from './types.js';

/**
 * Writes a task's progress with at most one write in flight: a burst of
 * reports collapses to the latest, so a chatty task cannot flood the broker.
 */
export class ProgressReporter {
  private inFlight?: Promise<void>;
  private pending?: TaskProgress;
  private closed = false;

  constructor(
    private readonly backend: Backend,
    private readonly task: ClaimedTask,
  ) {}

  report(progress: TaskProgress): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.pending = progress;
    this.inFlight ??= this.drain();
    return this.inFlight;
  }

  /** Stops reporting and waits for the write in flight, so it lands before the final state. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending = undefined;
    await this.inFlight;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending && !this.closed) {
        const next = this.pending;
        this.pending = undefined;
        await this.backend.recordProgress(this.task, next);
      }
    } finally {
      this.inFlight = undefined;
    }
  }
}
