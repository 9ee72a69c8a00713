import { createMemoryChannelLayer, createRedisChannelLayer, type ChannelLayer } from '../src/channels/index.js';

/**
 * The chat's channel layer: memory for one web process, Redis pub/sub so rooms
 * span several web processes (and workers can post into them). A `?prefix=`
 * on the URL (as the broker URL takes) keeps tests apart; ioredis never sees it.
 */
export function createDemoChannelLayer(spec: string): ChannelLayer {
  if (spec === 'memory') return createMemoryChannelLayer();
  const url = new URL(spec);
  const prefix = url.searchParams.get('prefix') ?? 'errand-demo';
  url.search = '';
  return createRedisChannelLayer({ url: url.toString(), prefix: `${prefix}:channels` });
}
