import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { dropIfMoved, isClusterUrl, openCluster, type RedisClient } from '../backends/redis/cluster.js';
import { ClosedError } from '../core/errors.js';
import { brokerError, reconnectDelay, type PubSub, type PubSubHandlers } from './pubsub.js';

/**
 * Opens one of the pub/sub's connections: 'sub' on the first listen, 'pub'
 * on the first publish. `extra` is what the pub/sub needs of a plain Redis
 * connection (spread it last). A Cluster returned for 'sub' must be opened
 * with `shardedSubscribers: true`: ioredis keeps one subscriber per master
 * and subscribes it again itself.
 */
export type RedisConnect = (role: 'sub' | 'pub', extra: RedisOptions) => RedisClient;

export interface RedisPubSubOptions extends PubSubHandlers {
  connect: RedisConnect;
  /** Sharded pub/sub (SSUBSCRIBE/SPUBLISH, 'smessage'), for a Redis Cluster. */
  sharded: boolean;
  /** The error a failed command becomes (default: a BrokerError naming `name`). */
  wrap?: (what: string, error: unknown) => Error;
  /** Names the pub/sub in errors (default 'redis pub/sub'). */
  name?: string;
}

/** The reconnect rule, as ioredis's retryStrategy (`times` counts from 1). */
const retryStrategy = (times: number): number => reconnectDelay(times - 1);

const SUBSCRIBER: RedisOptions = {
  // Resubscription is ours, so that onReconnect comes after it.
  autoResubscribe: false,
  // ioredis writes a SUBSCRIBE made during the handshake at once; once its
  // reply puts the connection in subscriber mode, the ready check's INFO
  // (and CLIENT SETINFO) are refused and the connection is torn down,
  // losing acknowledged subscriptions. A subscriber needs neither.
  enableReadyCheck: false,
  disableClientInfo: true,
  retryStrategy,
};
const PUBLISHER: RedisOptions = { retryStrategy };

/**
 * Pub/sub over Redis: one subscriber connection for every topic, and a
 * publisher of its own (a connection in subscriber mode can send nothing
 * else). On a plain connection (one Redis, or on a cluster the master of
 * one slot) a drop is followed, at the next 'ready', by one SUBSCRIBE of
 * every topic, then onReconnect. On a Cluster opened with
 * shardedSubscribers, ioredis resubscribes its per-master subscribers
 * itself; onReconnect follows its 'subscribersReady' after a node dropped.
 */
export class RedisPubSub implements PubSub {
  private readonly topics = new Set<string>();
  private sub?: RedisClient;
  private pub?: RedisClient;
  private closing?: Promise<void>;
  private readonly name: string;

  constructor(private readonly options: RedisPubSubOptions) {
    this.name = options.name ?? 'redis pub/sub';
  }

  async listen(topic: string): Promise<void> {
    this.assertOpen();
    this.topics.add(topic);
    const sub = this.subscriber();
    await this.run('listen', sub, this.options.sharded ? sub.ssubscribe(topic) : sub.subscribe(topic));
  }

  async unlisten(topic: string): Promise<void> {
    this.topics.delete(topic);
    const sub = this.sub;
    if (!sub || this.closing) return;
    await this.run('unlisten', sub, this.options.sharded ? sub.sunsubscribe(topic) : sub.unsubscribe(topic));
  }

  async publish(topic: string, payload: string): Promise<void> {
    this.assertOpen();
    const pub = this.publisher();
    await this.run('publish', pub, this.options.sharded ? pub.spublish(topic, payload) : pub.publish(topic, payload));
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.topics.clear();
    // a subscriber has nothing to flush; a publisher finishes what it was given
    this.sub?.disconnect();
    const pub = this.pub;
    if (pub?.status === 'ready') await pub.quit().catch(() => undefined);
    pub?.disconnect();
  }

  private subscriber(): RedisClient {
    if (this.sub) return this.sub;
    const sub = this.options.connect('sub', SUBSCRIBER);
    // failures surface on the commands that meet them; ioredis reconnects meanwhile
    sub.on('error', () => undefined);
    if (sub instanceof Cluster) this.watchCluster(sub);
    else this.watchConnection(sub);
    this.sub = sub;
    return sub;
  }

  private publisher(): RedisClient {
    if (!this.pub) {
      this.pub = this.options.connect('pub', PUBLISHER);
      this.pub.on('error', () => undefined);
    }
    return this.pub;
  }

  /** A plain subscriber connection: subscriptions die with it, so after any drop the next 'ready' restores them. */
  private watchConnection(sub: Redis): void {
    sub.on(this.options.sharded ? 'smessage' : 'message', (topic: string, payload: string) => this.receive(topic, payload));
    let dropped = false;
    sub.on('close', () => (dropped = true));
    sub.on('ready', () => {
      if (!dropped || this.closing) return;
      dropped = false;
      void this.resubscribe(sub);
    });
    if (!this.options.sharded) return;
    // The slot moved (resharding, failover): the old master ends our sharded subscriptions
    // with an SUNSUBSCRIBE of its own, which ioredis reports as a reply nobody asked for.
    // Reconnecting finds the slot's new master (cluster.ts), and 'ready' above resubscribes.
    let moving = false;
    sub.on('ready', () => (moving = false));
    sub.on('error', (error: Error) => {
      if (moving || this.closing || !/Command queue state error.*sunsubscribe/s.test(error.message)) return;
      moving = true;
      sub.disconnect(true);
    });
  }

  /** A Cluster with sharded subscribers: ioredis resubscribes; we report it once a dropped node's subscriber is back. */
  private watchCluster(sub: Cluster): void {
    sub.on('smessage', (topic: string, payload: string) => this.receive(topic, payload));
    let dropped = false;
    sub.on('-node', () => (dropped = true));
    sub.on('subscribersReady', () => {
      if (!dropped || this.closing) return;
      dropped = false;
      this.options.onReconnect?.();
    });
  }

  private async resubscribe(sub: Redis): Promise<void> {
    const topics = [...this.topics];
    if (topics.length > 0) {
      try {
        await (this.options.sharded ? sub.ssubscribe(...topics) : sub.subscribe(...topics));
      } catch (error) {
        if (this.options.sharded) dropIfMoved(sub, error);
        return; // the connection dropped again: the next 'ready' tries again
      }
    }
    if (!this.closing) this.options.onReconnect?.();
  }

  /** Only while listened: a message in flight when its topic was unlistened is dropped. */
  private receive(topic: string, payload: string): void {
    if (this.topics.has(topic)) this.options.deliver(topic, payload, {});
  }

  private async run<T>(what: string, conn: RedisClient, command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (error) {
      // on a slot connection, a node that no longer serves the slot: reconnect to the one that does
      if (this.options.sharded && conn instanceof Redis) dropIfMoved(conn, error);
      if (this.closing) throw new ClosedError(this.name);
      throw this.options.wrap ? this.options.wrap(what, error) : brokerError(this.name, what, error);
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new ClosedError(this.name);
  }
}

/**
 * The connections of a redis:// or redis+cluster:// URL, named
 * `<name>:<role>` (CLIENT LIST): one Redis each, or on a cluster a Cluster
 * each, the subscriber with sharded subscribers (topics spread over the
 * shards by their slot).
 */
export function connectUrl(url: string, name?: string): RedisConnect {
  return (role, extra) => {
    const common: RedisOptions = { maxRetriesPerRequest: 3 };
    if (name !== undefined) common.connectionName = `${name}:${role}`;
    if (!isClusterUrl(url)) return new Redis(url, { ...common, ...extra });
    return openCluster(url, common, { shardedSubscribers: role === 'sub', clusterRetryStrategy: retryStrategy });
  };
}
