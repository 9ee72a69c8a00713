import { isTerminal } from '../core/states.js';
import type { TaskInfo } from '../core/types.js';
import { statusMessage, type StatusMessage } from './status-message.js';

/** What an event needs of the hub's deliveries (FanOut, src/status/fan-out.ts). */
interface Deliveries {
  /** True while deliveries are queued. */
  readonly busy: boolean;
  /** Runs `task` once no delivery is queued. */
  hold(task: () => void): void;
}

/**
 * One version of a task's status as the hub hands it out. The wire message and
 * its JSON are built once, on first use, however many subscribers send them.
 *
 * While the hub still has updates to hand out (a large fan-out goes out a
 * slice per event-loop turn), `fanningOut` is true and `afterFanOut` holds
 * back work that may wait until every subscriber has its update, such as
 * closing a socket after the terminal version: that costs more than the
 * update itself and would otherwise delay the update to the others.
 */
export class StatusEvent {
  readonly version: number;
  readonly terminal: boolean;
  private cachedMessage?: StatusMessage;
  private cachedJson?: string;
  private deliveries?: Deliveries;

  constructor(readonly info: TaskInfo) {
    this.version = info.version;
    this.terminal = isTerminal(info.state);
  }

  get message(): StatusMessage {
    return (this.cachedMessage ??= statusMessage(this.info));
  }

  get json(): string {
    return (this.cachedJson ??= JSON.stringify(this.message));
  }

  /** True while the hub that delivers this event has updates left to hand out (this one's or another task's). */
  get fanningOut(): boolean {
    return this.deliveries?.busy ?? false;
  }

  /**
   * Runs `task` once the hub has handed out every queued update (at once when
   * it has, or for an event no hub delivers). Held tasks run a slice per
   * event-loop turn; a task must not throw.
   */
  afterFanOut(task: () => void): void {
    if (this.deliveries?.busy) this.deliveries.hold(task);
    else task();
  }

  /** The hub's side: `deliveries` hands this event out. */
  deliveredBy(deliveries: Deliveries): void {
    this.deliveries = deliveries;
  }
}
