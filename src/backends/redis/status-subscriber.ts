import type { Redis, RedisOptions } from 'ioredis';
import type { Unsubscribe } from '../../core/backend.js';
import { Listeners } from '../../core/listeners.js';
import type { TaskInfo } from '../../core/types.js';
import { RedisPubSub } from '../../pubsub/redis-pubsub.js';
import type { RedisKeys } from './keys.js';
import type { TagFeeds } from './tag-feed.js';

/** What the subscriber needs of the backend that owns the connections. */
export interface SubscriberHost {
  readonly keys: RedisKeys;
  connect(role: string, extra: RedisOptions): Redis;
  /**
   * Sharded pub/sub (SSUBSCRIBE, 'smessage'): on a cluster, where the
   * scripts SPUBLISH and the connection goes to the master of the prefix's slot.
   */
  readonly sharded: boolean;
  /** The snapshot a reconnect replays (events published while disconnected are lost). */
  getInfo(id: string): Promise<TaskInfo | null>;
  wrap(what: string, error: unknown): Error;
  isClosed(): boolean;
}

interface StatusEntry {
  listeners: Listeners<TaskInfo>;
  /** Settles once SUBSCRIBE for the id's channel is acknowledged. */
  ready: Promise<unknown>;
}

/**
 * The one subscriber connection of a backend (a RedisPubSub, opened on
 * first use): status channels per watched task, the revocation channel and
 * the tag feeds' channels, with one SUBSCRIBE per channel however many
 * listeners it has. After any reconnect (the pub/sub has subscribed again)
 * it replays what may have been missed meanwhile.
 */
export class StatusSubscriber {
  private readonly pubsub: RedisPubSub;
  private readonly status = new Map<string, StatusEntry>();
  private readonly revocations = new Listeners<string>();
  private revocationsReady?: Promise<unknown>;
  private tags?: TagFeeds;

  constructor(private readonly host: SubscriberHost) {
    this.pubsub = new RedisPubSub({
      // named errand:sub:<instanceId>; on a cluster, to the master of the prefix's slot
      connect: (_role, extra) => host.connect('sub', extra),
      sharded: host.sharded,
      deliver: (channel, message) => this.onMessage(channel, message),
      onReconnect: () => void this.replay(),
      wrap: (what, error) => host.wrap(what, error),
    });
  }

  /** The tag feeds whose channels share this connection (set once, by the backend). */
  attachTags(tags: TagFeeds): void {
    this.tags = tags;
  }

  async subscribeStatus(id: string, listener: (info: TaskInfo) => void): Promise<Unsubscribe> {
    let entry = this.status.get(id);
    if (!entry) {
      const ready = this.listen(this.host.keys.status(id));
      ready.catch(() => {});
      entry = { listeners: new Listeners<TaskInfo>(), ready };
      this.status.set(id, entry);
    }
    const current = entry;
    const off = current.listeners.add(listener);
    try {
      await current.ready;
    } catch (error) {
      off();
      await this.dropStatus(id, current);
      throw this.host.wrap('subscribeStatus', error);
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      off();
      await this.dropStatus(id, current);
    };
  }

  async subscribeRevocations(listener: (id: string) => void): Promise<Unsubscribe> {
    const off = this.revocations.add(listener);
    if (!this.revocationsReady) {
      this.revocationsReady = this.listen(this.host.keys.revokedChannel);
      this.revocationsReady.catch(() => {});
    }
    try {
      await this.revocationsReady;
    } catch (error) {
      off();
      if (this.revocations.size === 0) this.revocationsReady = undefined;
      throw this.host.wrap('subscribeRevocations', error);
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      off();
      if (this.revocations.size > 0 || !this.revocationsReady) return;
      this.revocationsReady = undefined;
      if (!this.host.isClosed()) await this.unlisten(this.host.keys.revokedChannel).catch(() => {});
    };
  }

  /** Subscribes channels on the subscriber connection (opened on first use). */
  listen(...channels: string[]): Promise<unknown> {
    return Promise.all(channels.map((channel) => this.pubsub.listen(channel)));
  }

  /** Unsubscribes channels (nothing to do before the connection exists). */
  unlisten(...channels: string[]): Promise<unknown> {
    return Promise.all(channels.map((channel) => this.pubsub.unlisten(channel)));
  }

  /** Drops the connection and every listener (the backend closes). */
  close(): void {
    void this.pubsub.close();
    this.status.clear();
  }

  private async dropStatus(id: string, entry: StatusEntry): Promise<void> {
    if (entry.listeners.size > 0 || this.status.get(id) !== entry) return;
    this.status.delete(id);
    if (this.host.isClosed()) return;
    await this.unlisten(this.host.keys.status(id)).catch(() => {});
  }

  private onMessage(channel: string, message: string): void {
    const { keys } = this.host;
    if (channel === keys.revokedChannel) {
      this.revocations.emit(message);
      return;
    }
    if (this.tags?.handle(channel, message)) return;
    if (!channel.startsWith(keys.statusChannelPrefix)) return;
    const entry = this.status.get(channel.slice(keys.statusChannelPrefix.length));
    if (!entry) return;
    let info: TaskInfo;
    try {
      info = JSON.parse(message) as TaskInfo;
    } catch {
      return;
    }
    entry.listeners.emit(info);
  }

  /**
   * After a reconnect (the pub/sub has subscribed again): deliver the
   * current TaskInfo of every subscribed id, since events published while
   * disconnected are lost (consumers order by version and ignore
   * duplicates); tag listeners get what their feeds list after the last
   * cursor they heard. Revocations missed meanwhile are caught by the
   * worker's lease renewal (extendLeases reports revoked tasks as lost).
   */
  private async replay(): Promise<void> {
    if (this.host.isClosed()) return;
    await Promise.all([
      ...[...this.status.keys()].map(async (id) => {
        const info = await this.host.getInfo(id).catch(() => null);
        if (info) this.status.get(id)?.listeners.emit(info);
      }),
      this.tags?.replay(),
    ]);
  }
}
