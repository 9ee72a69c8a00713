import type { Backend, ClaimedTask } from '../backend.js';
import { renewalIntervalMs, type LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.js';

/**
 * Renews leases from a timer on the worker's own event loop. Used where no
 * thread can share the broker (memory): a handler that blocks the loop for
 * longer than the lease loses it there.
 */
export class LoopLeaseKeeper implements LeaseKeeper {
  private readonly tasks = new Map<string, ClaimedTask>();
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly backend: Backend,
    private readonly options: LeaseKeeperOptions,
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.renew(), renewalIntervalMs(this.options.leaseMs));
    this.timer.unref();
  }

  add(task: ClaimedTask): void {
    this.tasks.set(task.id, task);
  }

  remove(id: string): void {
    this.tasks.delete(id);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.tasks.clear();
  }

  private async renew(): Promise<void> {
    if (this.busy || this.tasks.size === 0) return;
    this.busy = true;
    try {
      const lost = await this.backend.extendLeases([...this.tasks.values()], this.options.leaseMs);
      for (const id of lost) this.tasks.delete(id);
      if (lost.length > 0) this.options.onLost(lost);
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.busy = false;
    }
  }
}
