import type { Backend } from '../core/backend.js';
import { ClosedError, TaskNotFoundError } from '../core/errors.js';
import { StatusSubscription } from './status-subscription.js';
import { FanOut } from './fan-out.js';
import { TaskFeed } from './task-feed.js';

export interface StatusHubOptions {
  /** Re-read the snapshot this often while a task is watched, in case a push was lost (default 5000 ms). */
  resyncMs?: number;
}

export interface SubscribeOptions {
  /** Skip versions up to this one (a resuming client already has them). */
  afterVersion?: number;
}

/**
 * Multiplexes the local watchers of a task onto ONE backend subscription per
 * task id, so 10,000 browsers watching one task cost one broker subscription.
 * Each watcher gets the current state first, then newer versions in order;
 * a slow watcher skips to the latest version but never misses the terminal one.
 */
export class StatusHub {
  private readonly feeds = new Map<string, TaskFeed>();
  /** Every feed's deliveries, paced together. */
  private readonly fanOut = new FanOut();
  private readonly resyncMs: number;
  private closed = false;

  constructor(
    private readonly backend: Backend,
    options: StatusHubOptions = {},
  ) {
    this.resyncMs = options.resyncMs ?? 5000;
  }

  /** Task ids with a live backend subscription. */
  get size(): number {
    return this.feeds.size;
  }

  /** Local subscribers of one task id. */
  subscriberCount(id: string): number {
    return this.feeds.get(id)?.subscribers.size ?? 0;
  }

  /**
   * Watches a task. Resolves once the current state is known (and queued for
   * the subscriber); throws TaskNotFoundError for an unknown or expired id.
   */
  async subscribe(id: string, options: SubscribeOptions = {}): Promise<StatusSubscription> {
    if (this.closed) throw new ClosedError('status hub');
    let feed = this.feeds.get(id);
    if (!feed) {
      feed = new TaskFeed(this.backend, id, this.resyncMs, this.fanOut, (f) => {
        if (this.feeds.get(f.id) === f) this.feeds.delete(f.id);
      });
      this.feeds.set(id, feed);
    }
    const owner = feed;
    const subscription = new StatusSubscription(id, options.afterVersion ?? 0, (s) => owner.remove(s));
    owner.add(subscription);
    try {
      await owner.ready;
    } catch (error) {
      subscription.close();
      throw error;
    }
    if (!owner.latest) {
      subscription.close();
      throw new TaskNotFoundError(id);
    }
    // The feed's delivery of the snapshot may still be queued behind other updates: hand it over now
    // (a version the subscriber has, or holds, is ignored).
    subscription.offer(owner.latest);
    return subscription;
  }

  /** Ends every subscription and releases every backend subscription. */
  async close(): Promise<void> {
    this.closed = true;
    const feeds = [...this.feeds.values()];
    for (const feed of feeds) feed.close();
    await Promise.all(feeds.map((feed) => feed.whenStopped()));
  }
}

export function createStatusHub(backend: Backend, options?: StatusHubOptions): StatusHub {
  return new StatusHub(backend, options);
}
