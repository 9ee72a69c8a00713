import type { Redis, RedisOptions } from 'ioredis';
import type { Unsubscribe } from '../../core/backend.js';
import { Listeners } from '../../core/listeners.js';
import type { TaskInfo } from '../../core/types.js';
import type { RedisKeys } from './keys.js';
import type { TagFeeds } from './tag-feed.js';
import { dropIfMoved } from './cluster.js';

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
 * The one subscriber connection of a backend (opened on first use): status
 * channels per watched task, the revocation channel and the tag feeds'
 * channels, with one SUBSCRIBE per channel however many listeners it has.
 * After any reconnect it subscribes again and replays what may have been
 * missed meanwhile.
 */
export class StatusSubscriber {
  private conn?: Redis;
  private readonly status = new Map<string, StatusEntry>();
  private readonly revocations = new Listeners<string>();
  private revocationsReady?: Promise<unknown>;
  private tags?: TagFeeds;

  constructor(private readonly host: SubscriberHost) {}

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
    const conn = this.connection();
    if (!this.host.sharded) return conn.subscribe(...channels);
    const done = conn.ssubscribe(...channels);
    // on a node that no longer serves the slot: reconnect to the one that does ('ready' resubscribes)
    done.catch((error: unknown) => dropIfMoved(conn, error));
    return done;
  }

  /** Unsubscribes channels (nothing to do before the connection exists). */
  async unlisten(...channels: string[]): Promise<unknown> {
    if (!this.conn) return;
    return this.host.sharded ? this.conn.sunsubscribe(...channels) : this.conn.unsubscribe(...channels);
  }

  /** The subscriber connection, opened on first use. */
  connection(): Redis {
    if (!this.conn) {
      const sub = this.host.connect('sub', {
        // Resubscription is ours, so that it is followed by the replay below.
        autoResubscribe: false,
        // ioredis writes a SUBSCRIBE made during the handshake at once; once
        // its reply puts the connection in subscriber mode, the ready check's
        // INFO (and CLIENT SETINFO) are refused and the connection is torn
        // down, losing acknowledged subscriptions. A subscriber needs neither.
        enableReadyCheck: false,
        disableClientInfo: true,
      });
      sub.on(this.host.sharded ? 'smessage' : 'message', (channel: string, message: string) => this.onMessage(channel, message));
      // Subscriptions die with a connection: after any drop, the next 'ready' restores them.
      let dropped = false;
      sub.on('close', () => (dropped = true));
      sub.on('ready', () => {
        if (!dropped) return;
        dropped = false;
        void this.resubscribe(sub);
      });
      if (this.host.sharded) {
        // The slot moved (resharding, failover): the old master ends our sharded subscriptions
        // with an SUNSUBSCRIBE of its own, which ioredis reports as a reply nobody asked for.
        // Reconnecting finds the slot's new master (cluster.ts), and 'ready' above resubscribes and replays.
        let moving = false;
        sub.on('ready', () => (moving = false));
        sub.on('error', (error: Error) => {
          if (moving || this.host.isClosed() || !/Command queue state error.*sunsubscribe/s.test(error.message)) return;
          moving = true;
          sub.disconnect(true);
        });
      }
      this.conn = sub;
    }
    return this.conn;
  }

  /** Drops the connection and every listener (the backend closes). */
  close(): void {
    this.conn?.disconnect();
    this.status.clear();
  }

  private async dropStatus(id: string, entry: StatusEntry): Promise<void> {
    if (entry.listeners.size > 0 || this.status.get(id) !== entry) return;
    this.status.delete(id);
    if (this.host.isClosed() || !this.conn) return;
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
   * After a reconnect: subscribe again, then deliver the current TaskInfo of
   * every subscribed id, since events published while disconnected are lost
   * (consumers order by version and ignore duplicates); tag listeners get
   * what their feeds list after the last cursor they heard. Revocations missed
   * meanwhile are caught by the worker's lease renewal (extendLeases reports
   * revoked tasks as lost).
   */
  private async resubscribe(sub: Redis): Promise<void> {
    const ids = [...this.status.keys()];
    const channels = ids.map((id) => this.host.keys.status(id));
    if (this.revocationsReady) channels.push(this.host.keys.revokedChannel);
    channels.push(...(this.tags?.channels() ?? []));
    if (channels.length === 0 || this.host.isClosed()) return;
    try {
      await (this.host.sharded ? sub.ssubscribe(...channels) : sub.subscribe(...channels));
    } catch (error) {
      if (this.host.sharded) dropIfMoved(sub, error);
      return; // the next 'ready' tries again
    }
    await Promise.all([
      ...ids.map(async (id) => {
        const info = await this.host.getInfo(id).catch(() => null);
        if (info) this.status.get(id)?.listeners.emit(info);
      }),
      this.tags?.replay(),
    ]);
  }
}
