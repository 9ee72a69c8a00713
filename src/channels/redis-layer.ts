import { isClusterUrl } from '../backends/redis/cluster.js';
import { ConfigError } from '../core/errors.js';
import { RedisPubSub, connectUrl } from '../pubsub/redis-pubsub.js';
import type { ChannelLayerOptions } from './channel-layer.js';
import { PubSubChannelLayer } from './pubsub-layer.js';

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
 * PubSubChannelLayer, and RedisPubSub for the connections). Nothing is
 * stored in Redis: inboxes are `<prefix>:inbox:<layerId>`, groups
 * `<prefix>:group:<group>`. On a cluster a topic has no hash tag, so
 * topics spread over the shards.
 */
export class RedisChannelLayer extends PubSubChannelLayer {
  constructor(options: RedisChannelLayerOptions) {
    if (!options.url) throw new ConfigError('createRedisChannelLayer needs a url');
    const prefix = options.prefix ?? 'errand:channels';
    super(options, {
      inboxTopic: (layerId) => `${prefix}:inbox:${layerId}`,
      groupTopic: (group) => `${prefix}:group:${group}`,
      open: (handlers) =>
        new RedisPubSub({
          ...handlers,
          // named errand:channels:sub / :pub in CLIENT LIST
          connect: connectUrl(options.url, 'errand:channels'),
          sharded: isClusterUrl(options.url),
          name: 'redis channel layer',
        }),
    });
  }
}

export function createRedisChannelLayer(options: RedisChannelLayerOptions): RedisChannelLayer {
  return new RedisChannelLayer(options);
}
