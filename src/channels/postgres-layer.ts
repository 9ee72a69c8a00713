import { createHash } from 'node:crypto';
import { ConfigError } from '../core/errors.js';
import { PostgresPubSub } from '../pubsub/postgres-pubsub.js';
import type { ChannelLayerOptions } from './channel-layer.js';
import { PubSubChannelLayer } from './pubsub-layer.js';

export interface PostgresChannelLayerOptions extends ChannelLayerOptions {
  /** postgres://user:pass@host:5432/db */
  url: string;
  /** Prefix of every NOTIFY channel the layer uses, and of its overflow table (default 'errand_channels'). */
  prefix?: string;
  /** Schema of the overflow table (default 'public'). */
  schema?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,30}$/;

/**
 * A channel layer shared by processes through PostgreSQL LISTEN/NOTIFY (see
 * PubSubChannelLayer, and PostgresPubSub for the connection), for apps that
 * run PostgreSQL and no Redis. NOTIFY channels are identifiers of at most
 * 63 bytes: an inbox is `<prefix>_i_<layerId>` (layer ids are base64url, so
 * case matters: topics are always quoted), a group `<prefix>_g_<hash of its
 * name>`. A message too big for a NOTIFY payload goes through
 * `<schema>.<prefix>_overflow`.
 */
export class PostgresChannelLayer extends PubSubChannelLayer {
  constructor(options: PostgresChannelLayerOptions) {
    if (!options.url) throw new ConfigError('createPostgresChannelLayer needs a url');
    const prefix = options.prefix ?? 'errand_channels';
    const schema = options.schema ?? 'public';
    if (!IDENTIFIER.test(prefix)) throw new ConfigError(`channel layer prefix "${prefix}" must match ${IDENTIFIER}`);
    if (!IDENTIFIER.test(schema)) throw new ConfigError(`channel layer schema "${schema}" must match ${IDENTIFIER}`);
    super(options, {
      inboxTopic: (layerId) => `${prefix}_i_${layerId}`,
      groupTopic: (group) => `${prefix}_g_${createHash('sha256').update(group).digest('hex').slice(0, 24)}`,
      open: (handlers) =>
        new PostgresPubSub({
          ...handlers,
          config: { connectionString: options.url },
          applicationName: `errand:channels:${prefix}`,
          overflowTable: `"${schema}"."${prefix}_overflow"`,
          name: 'postgres channel layer',
        }),
    });
  }
}

export function createPostgresChannelLayer(options: PostgresChannelLayerOptions): PostgresChannelLayer {
  return new PostgresChannelLayer(options);
}
