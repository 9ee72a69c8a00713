export type { ChannelLayer, ChannelLayerOptions, ChannelMessage, ReceiveOptions } from './channel-layer.js';
export { MemoryChannelLayer, createMemoryChannelLayer } from './memory-layer.js';
export { RedisChannelLayer, createRedisChannelLayer, type RedisChannelLayerOptions } from './redis-layer.js';
export { PostgresChannelLayer, createPostgresChannelLayer, type PostgresChannelLayerOptions } from './postgres-layer.js';
