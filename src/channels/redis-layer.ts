import { Redis, type Cluster } from 'ioredis';
import { isClusterUrl, openCluster } from '../backends/redis/cluster.js';
import { BrokerError, ConfigError } from '../core/errors.js';
import type { ChannelLayerOptions } from './channel-layer.js';
import { PubSubChannelLayer, type PubSubTransport } from './pubsub-layer.js';

export interface RedisChannelLayerOptions extends ChannelLayerOptions {
  /**
   * redis://host:port/db, or redis+cluster://host:port,host:port/ for a
   * Redis Cluster: topics then go over sharded pub/sub (SSUBSCRIBE/SPUBLISH),
   * each on the shard that owns its slot, instead of being broadcast to every node.
   */
  url: string;
  /** Prefix of every Redis pub/sub channel the layer uses (default 'errand:channels'). */
  prefix?: string;
}

/**
 * A channel layer shared by processes through Redis pub/sub (see
 * PubSubChannelLayer). Nothing is stored in Redis: inboxes are
 * `<prefix>:inbox:<layerId>`, groups `<prefix>:group:<group>`. ioredis
 * reconnects by itself and subscribes again to what it had.
 */
export class RedisChannelLayer extends PubSubChannelLayer {
  constructor(options: RedisChannelLayerOptions) {
    if (!options.url) throw new ConfigError('createRedisChannelLayer needs a url');
    super(options, (deliver) => redisTransport(options, deliver));
  }
}

function redisTransport(options: RedisChannelLayerOptions, deliver: (topic: string, payload: string) => void): PubSubTransport {
  if (isClusterUrl(options.url)) return clusterTransport(options, deliver);
  const prefix = options.prefix ?? 'errand:channels';
  const pub = new Redis(options.url, { maxRetriesPerRequest: 3 });
  const sub = pub.duplicate();
  // ioredis reconnects by itself; without a listener it would print every error.
  pub.on('error', () => undefined);
  sub.on('error', () => undefined);
  sub.on('message', (channel: string, payload: string) => deliver(channel, payload));
  const redis = async <T>(operation: Promise<T>): Promise<T> => {
    try {
      return await operation;
    } catch (error) {
      throw new BrokerError(`redis channel layer: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    inboxTopic: (layerId) => `${prefix}:inbox:${layerId}`,
    groupTopic: (group) => `${prefix}:group:${group}`,
    listen: async (topic) => void (await redis(sub.subscribe(topic))),
    unlisten: async (topic) => void (await redis(sub.unsubscribe(topic))),
    publish: async (topic, payload) => void (await redis(pub.publish(topic, payload))),
    async close() {
      await Promise.allSettled([sub.quit(), pub.quit()]);
      sub.disconnect();
      pub.disconnect();
    },
  };
}

/**
 * On a Redis Cluster: sharded pub/sub. An inbox or a group topic lives in
 * its own slot (no hash tag: topics spread over the shards), SPUBLISH goes
 * to the master that owns it, and ioredis keeps one sharded subscriber
 * connection per master (shardedSubscribers), which it subscribes again
 * after a reconnect or when a slot moves.
 */
function clusterTransport(options: RedisChannelLayerOptions, deliver: (topic: string, payload: string) => void): PubSubTransport {
  const prefix = options.prefix ?? 'errand:channels';
  const pub = openCluster(options.url, { maxRetriesPerRequest: 3 });
  const sub: Cluster = openCluster(options.url, {}, { shardedSubscribers: true });
  pub.on('error', () => undefined);
  sub.on('error', () => undefined);
  sub.on('smessage', (channel: string, payload: string) => deliver(channel, payload));
  const redis = async <T>(operation: Promise<T>): Promise<T> => {
    try {
      return await operation;
    } catch (error) {
      throw new BrokerError(`redis channel layer: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    inboxTopic: (layerId) => `${prefix}:inbox:${layerId}`,
    groupTopic: (group) => `${prefix}:group:${group}`,
    listen: async (topic) => void (await redis(sub.ssubscribe(topic))),
    unlisten: async (topic) => void (await redis(sub.sunsubscribe(topic))),
    publish: async (topic, payload) => void (await redis(pub.spublish(topic, payload))),
    async close() {
      await Promise.allSettled([sub.quit(), pub.quit()]);
      sub.disconnect();
      pub.disconnect();
    },
  };
}

export function createRedisChannelLayer(options: RedisChannelLayerOptions): RedisChannelLayer {
  return new RedisChannelLayer(options);
}
