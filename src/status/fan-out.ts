import type { StatusEvent } from './status-event.js';
import type { StatusSubscription } from './status-subscription.js';

/** Offers (or held tasks) per event-loop turn. */
export const FAN_OUT_SLICE = 500;

/** Held tasks that waited this long run a slice per turn even while deliveries keep coming. */
const HELD_MAX_WAIT_MS = 1000;

interface Delivery {
  event: StatusEvent;
  targets: StatusSubscription[];
  next: number;
  /** False for a target that left since (it is skipped). */
  current(subscription: StatusSubscription): boolean;
}

/**
 * Every delivery of one hub, whatever the task: FAN_OUT_SLICE offers per
 * event-loop turn across all of them, in arrival order, so that neither
 * 10,000 sockets on one task nor 100 tasks finishing at once stall other
 * requests for long. A delivery nobody is queued ahead of goes out at once as
 * far as this turn's budget allows (a lone subscriber waits for nothing).
 *
 * Work held with `StatusEvent.afterFanOut` (closing a socket after its
 * terminal update) runs once no delivery is queued, at the same pace: updates
 * first, housekeeping after (and no later than HELD_MAX_WAIT_MS, however busy).
 */
export class FanOut {
  private readonly deliveries: Delivery[] = [];
  private held: Array<() => void> = [];
  private heldNext = 0;
  private heldSince = 0;
  private scheduled = false;
  /** Offers made since the last turn began. */
  private spent = 0;

  /** True while deliveries are queued. */
  get busy(): boolean {
    return this.deliveries.length > 0;
  }

  /** Offers `event` to `targets` (those still `current` when their turn comes). */
  deliver(event: StatusEvent, targets: StatusSubscription[], current: (subscription: StatusSubscription) => boolean): void {
    event.deliveredBy(this);
    this.deliveries.push({ event, targets, next: 0, current });
    if (this.deliveries.length === 1) this.deliverSlice();
    // Even when all went out: the next turn renews the budget (many tasks' updates read in one I/O callback share it).
    this.schedule();
  }

  /** Runs `task` once no delivery is queued (see afterFanOut). */
  hold(task: () => void): void {
    if (this.heldNext === this.held.length) this.heldSince = performance.now();
    this.held.push(task);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.scheduled = false;
    this.spent = 0;
    if (this.busy) {
      this.deliverSlice();
      // Held work waits for a turn without deliveries (this slice's readers run after this, as microtasks),
      // unless deliveries have kept it waiting too long.
      if (this.heldNext < this.held.length && performance.now() - this.heldSince > HELD_MAX_WAIT_MS) this.runHeld();
    } else {
      this.runHeld();
    }
    if (this.busy || this.heldNext < this.held.length) this.schedule();
  };

  private deliverSlice(): void {
    let budget = FAN_OUT_SLICE - this.spent;
    while (budget > 0 && this.deliveries.length > 0) {
      const delivery = this.deliveries[0]!;
      const end = Math.min(delivery.next + budget, delivery.targets.length);
      for (let i = delivery.next; i < end; i++) {
        const subscription = delivery.targets[i]!;
        if (delivery.current(subscription)) subscription.offer(delivery.event);
      }
      budget -= end - delivery.next;
      this.spent += end - delivery.next;
      delivery.next = end;
      if (end === delivery.targets.length) this.deliveries.shift();
    }
  }

  private runHeld(): void {
    const end = Math.min(this.heldNext + FAN_OUT_SLICE, this.held.length);
    for (let i = this.heldNext; i < end; i++) {
      try {
        this.held[i]!();
      } catch {
        // Held tasks are the web layer's housekeeping (closing a socket), which handles its own errors;
        // one that throws anyway must not keep the others from running.
      }
    }
    this.heldNext = end;
    if (end === this.held.length) {
      this.held = [];
      this.heldNext = 0;
    } else {
      this.heldSince = performance.now();
    }
  }
}
