import { createRequire } from 'node:module';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConfigError } from '../../core/errors.js';

/** A command client: one Redis, or a Redis Cluster (redis+cluster:// URLs). */
export type RedisClient = Redis | Cluster;

/** A cluster broker URL: `redis+cluster://` (or `rediss+cluster://`, TLS) followed by comma-separated host:port seeds. */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//.test(url);
}

export interface ClusterUrl {
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls: boolean;
  params: URLSearchParams;
}

/**
 * Parses `redis+cluster://[user:pass@]host:port,host:port,…[/][?params]`
 * (`rediss+cluster://` for TLS). The nodes are seeds: ioredis learns the
 * rest of the cluster from them. A database other than 0 is refused (a
 * cluster has only db 0).
 */
export function parseClusterUrl(url: string): ClusterUrl {
  const match = /^(rediss?)\+cluster:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/.exec(url);
  if (!match) throw new ConfigError(`cannot read the cluster URL "${redactClusterUrl(url)}"`);
  const [, scheme, authority = '', path = '', query = ''] = match;
  if (path !== '' && path !== '/' && path !== '/0') {
    throw new ConfigError(`a Redis Cluster has only database 0: "${redactClusterUrl(url)}" names ${path}`);
  }
  const at = authority.lastIndexOf('@');
  const hosts = at === -1 ? authority : authority.slice(at + 1);
  let username: string | undefined;
  let password: string | undefined;
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon)) || undefined;
    password = colon === -1 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
  }
  const nodes = hosts
    .split(',')
    .filter((h) => h.length > 0)
    .map((h) => {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
      if (!m) throw new ConfigError(`cannot read the node "${h}" of cluster URL "${redactClusterUrl(url)}"`);
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] === undefined ? 6379 : Number(m[2]) };
    });
  if (nodes.length === 0) throw new ConfigError(`cluster URL "${redactClusterUrl(url)}" names no node`);
  return { nodes, username, password, tls: scheme === 'rediss', params: new URLSearchParams(query) };
}

/** The URL with its password hidden. */
export function redactClusterUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}

/** The connection options (credentials, TLS, family) a cluster URL carries, for every node connection. */
function nodeOptions(parsed: ClusterUrl): RedisOptions {
  const options: RedisOptions = {};
  if (parsed.username !== undefined) options.username = parsed.username;
  if (parsed.password !== undefined) options.password = parsed.password;
  if (parsed.tls) options.tls = {};
  const family = parsed.params.get('family');
  if (family !== null) options.family = Number(family);
  return options;
}

/** A Cluster for a redis+cluster:// URL; `redisOptions` apply to each of its node connections. */
export function openCluster(url: string, redisOptions: RedisOptions, clusterOptions: ClusterOptions = {}): Cluster {
  const parsed = parseClusterUrl(url);
  return new Cluster(parsed.nodes, {
    ...clusterOptions,
    redisOptions: { ...nodeOptions(parsed), ...redisOptions },
  });
}

const require = createRequire(import.meta.url);
// ioredis's own connector for one host; the one below picks that host at each (re)connect.
const StandaloneConnector = (require('ioredis/built/connectors/StandaloneConnector.js') as { default: ConnectorClass }).default;

interface ConnectorInstance {
  connecting: boolean;
  options: { host?: string; port?: number };
  connect(emitter: unknown): Promise<unknown>;
}
type ConnectorClass = new (options: unknown) => ConnectorInstance;

/**
 * A plain Redis connection to the master that serves `slotKey`'s slot, for
 * what cannot go through the Cluster client: a blocking pop on a connection
 * of its own, and (sharded) pub/sub with our own resubscription. The master
 * is looked up (CLUSTER SLOTS through `cluster`) at every connect and
 * reconnect, so after a failover or a resharding the connection follows the
 * slot once it reconnects (see dropIfMoved).
 */
export function openSlotConnection(url: string, cluster: Cluster, slotKey: string, options: RedisOptions): Redis {
  const parsed = parseClusterUrl(url);
  const slot = keySlot(slotKey);
  const locate = async (): Promise<{ host: string; port: number }> => {
    for (const [from, to, master] of await cluster.cluster('SLOTS')) {
      if (master && slot >= from && slot <= to) {
        // an empty host means "the address you reached me on" (cluster-announce-hostname unset)
        return { host: master[0] || parsed.nodes[0]!.host, port: Number(master[1]) };
      }
    }
    throw new Error(`no Redis Cluster node serves slot ${slot}`);
  };
  let attempt = 0;
  /**
   * The slot's master, or when the cluster cannot say within a second (it
   * is down, or still connecting) the next seed: a connector that threw
   * would end the connection for good, while a connection to a node that
   * is down takes ioredis's ordinary reconnect path, and one to the wrong
   * node is told MOVED and reconnects (dropIfMoved).
   */
  const target = async (): Promise<{ host: string; port: number }> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('CLUSTER SLOTS timed out')), 1000);
    });
    try {
      const found = await Promise.race([locate(), late]);
      attempt = 0;
      return found;
    } catch {
      return parsed.nodes[attempt++ % parsed.nodes.length]!;
    } finally {
      clearTimeout(timer);
    }
  };
  class SlotConnector extends StandaloneConnector {
    override async connect(emitter: unknown): Promise<unknown> {
      this.connecting = true;
      const { host, port } = await target();
      if (!this.connecting) throw new Error('Connection is closed.');
      this.options.host = host;
      this.options.port = port;
      return super.connect(emitter);
    }
  }
  return new Redis({
    ...nodeOptions(parsed),
    ...options,
    host: parsed.nodes[0]!.host,
    port: parsed.nodes[0]!.port,
    Connector: SlotConnector as unknown as RedisOptions['Connector'],
  });
}

/** A command on a slot connection met MOVED/ASK/CLUSTERDOWN (the slot moved): reconnect, which finds its new master. */
export function dropIfMoved(conn: Redis, error: unknown): void {
  if (/^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b/.test((error as Error)?.message ?? '')) conn.disconnect(true);
}

/** The cluster slot of a key: CRC16 (XMODEM) of its hash tag, mod 16384, as Redis computes it. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key);
  let from = 0;
  let to = bytes.length;
  const open = bytes.indexOf(0x7b); // '{'
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) {
      from = open + 1;
      to = close;
    }
  }
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= bytes[i]! << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/**
 * A script's text for a cluster: status, tag and revocation events go out on
 * sharded pub/sub (SPUBLISH, counted with PUBSUB SHARDNUMSUB), which stays
 * inside the shard that owns the prefix's slot instead of being broadcast to
 * every node. The channels carry the prefix's hash tag, so they are in the
 * script's slot.
 */
export function shardedScript(lua: string): string {
  return lua
    .replaceAll("redis.call('PUBLISH',", "redis.call('SPUBLISH',")
    .replaceAll("redis.call('PUBSUB', 'NUMSUB',", "redis.call('PUBSUB', 'SHARDNUMSUB',");
}
