import type { Backend, Unsubscribe } from '../core/backend.js';
import type { TaskInfo } from '../core/types.js';
import type { FanOut } from './fan-out.js';
import { StatusEvent } from './status-event.js';
import type { StatusSubscription } from './status-subscription.js';

/**
 * One task id's single backend subscription, fanned out to local subscribers.
 *
 * States: starting (subscribe, then read the snapshot, so no push falls in
 * between) → live (pushes, plus a resync read every `resyncMs` in case a push
 * was lost) → settled (terminal seen: the backend subscription and timer are
 * dropped, the terminal event is kept for late joiners) → closed (the last
 * subscriber left, or the hub closed).
 */
export class TaskFeed {
  readonly subscribers = new Set<StatusSubscription>();
  /** The newest version seen; undefined until the snapshot, and for an unknown id. */
  latest?: StatusEvent;
  /** Resolves once subscribed and the snapshot is read; rejects if the backend fails. */
  readonly ready: Promise<void>;
  private readonly subscribed: Promise<Unsubscribe>;
  private stopped?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly backend: Backend,
    readonly id: string,
    private readonly resyncMs: number,
    private readonly fanOut: FanOut,
    private readonly onClosed: (feed: TaskFeed) => void,
  ) {
    this.subscribed = backend.subscribeStatus(id, (info) => this.offer(info));
    this.ready = this.start();
  }

  private readonly isSubscriber = (subscription: StatusSubscription): boolean => this.subscribers.has(subscription);

  add(subscription: StatusSubscription): void {
    this.subscribers.add(subscription);
    if (this.latest) subscription.offer(this.latest);
  }

  remove(subscription: StatusSubscription): void {
    this.subscribers.delete(subscription);
    if (this.subscribers.size === 0) this.close();
  }

  /** Ends every subscriber and releases the backend subscription. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopBackend();
    for (const subscription of [...this.subscribers]) subscription.end('closed');
    this.onClosed(this);
  }

  /** Resolves once the backend subscription is released. */
  whenStopped(): Promise<void> {
    return this.stopped ?? Promise.resolve();
  }

  private async start(): Promise<void> {
    await this.subscribed;
    const snapshot = await this.backend.getInfo(this.id);
    if (snapshot) this.offer(snapshot);
    if (!this.closed && !this.latest?.terminal) {
      // Jitter spreads the resync reads of many feeds over time.
      const period = this.resyncMs * (0.9 + Math.random() * 0.2);
      this.timer = setInterval(() => void this.resync(), period);
      this.timer.unref();
    }
  }

  private offer(info: TaskInfo): void {
    if (this.closed || (this.latest && info.version <= this.latest.version)) return;
    const event = new StatusEvent(info);
    this.latest = event;
    // A slice per event-loop turn across the hub (a subscriber that left before its turn is skipped).
    this.fanOut.deliver(event, [...this.subscribers], this.isSubscriber);
    if (event.terminal) this.stopBackend();
  }

  private async resync(): Promise<void> {
    let info: TaskInfo | null;
    try {
      info = await this.backend.getInfo(this.id);
    } catch {
      return; // a broker hiccup: the next push or resync catches up
    }
    if (this.closed) return;
    if (info) return this.offer(info);
    // The task is gone (its result expired): nothing more will come.
    for (const subscription of [...this.subscribers]) subscription.end('gone');
  }

  private stopBackend(): void {
    if (this.stopped) return;
    clearInterval(this.timer);
    this.stopped = this.subscribed.then(
      (unsubscribe) => unsubscribe().catch(() => undefined),
      () => undefined,
    );
  }
}
