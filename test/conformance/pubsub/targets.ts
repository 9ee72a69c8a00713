import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { MemoryPubSub, MemoryPubSubHub } from '../../../src/pubsub/memory-pubsub.js';
import { PostgresPubSub } from '../../../src/pubsub/postgres-pubsub.js';
import type { PubSub, PubSubHandlers } from '../../../src/pubsub/pubsub.js';
import { RedisPubSub, connectUrl } from '../../../src/pubsub/redis-pubsub.js';
import type { BrokerTarget, TargetName } from '../../support/brokers.js';
import { testClient as postgresClient } from '../../support/postgres.js';

/** One test's share of a broker: pub/subs opened on it hear each other, as processes would. */
export interface Namespace {
  /** A topic of this namespace; topics made with `oneShard` share a cluster slot (so one subscriber, one order). */
  topic(name: string, oneShard?: boolean): string;
  /** A pub/sub of its own connections, as another process would have. */
  open(handlers: PubSubHandlers): PubSub;
  /** Kills, from the server, the listening connection of every pub/sub opened here; how many it killed. */
  killListeners?(): Promise<number>;
  /** How many listening connections of this namespace each server node has. */
  listenerConnections?(): Promise<number[]>;
}

/** A broker's pub/sub as the contract runs it. */
export interface PubSubTarget {
  name: TargetName;
  /** The broker's describe block (skipped without its server; a failure with CI=true). */
  describe(title: string, fn: () => void): void;
  namespace(): Promise<Namespace>;
  /** A pub/sub whose connections cannot be made (a closed loopback port); absent where there is no connection. */
  unreachable?(port: number, handlers: PubSubHandlers): PubSub;
  /** Deliveries say which server session sent them (DeliveryMeta.senderPid). */
  reportsSender: boolean;
}

export const memoryTarget = (broker: BrokerTarget): PubSubTarget => ({
  name: broker.name,
  describe: broker.describe,
  reportsSender: false,
  async namespace() {
    const hub = new MemoryPubSubHub();
    return { topic: (name) => `t:${name}`, open: (handlers) => new MemoryPubSub(hub, handlers) };
  },
});

/** Redis and Redis Cluster (the URL says which): the channel layer's connections (connectUrl), named per namespace. */
export const redisTarget = (broker: BrokerTarget): PubSubTarget => ({
  name: broker.name,
  describe: broker.describe,
  reportsSender: false,
  async namespace() {
    const made = broker.makeUrl('pubsub');
    const url = made.slice(0, made.indexOf('?'));
    const prefix = new URLSearchParams(made.slice(made.indexOf('?') + 1)).get('prefix')!;
    const sharded = isCluster(broker);
    const name = `errand:pubsub:${prefix}`;
    // on a cluster, ioredis names each master's sharded subscriber ioredis-cluster(ssubscriber):<ours>
    const listener = `${sharded ? 'ioredis-cluster\\(ssubscriber\\):' : ''}${name}:\\d+:sub`;
    const listenerName = new RegExp(`^id=(\\d+) .*name=${listener} `, 'gm');
    let opened = 0;
    const nodes = (): Redis[] =>
      sharded
        ? /^redis\+cluster:\/\/([^/?]*)/
            .exec(url)![1]!
            .split(',')
            .map((node) => new Redis({ host: node.split(':')[0], port: Number(node.split(':')[1]), lazyConnect: true }))
        : [new Redis(url, { lazyConnect: true })];
    /** Each node's listening connections of this namespace, by CLIENT LIST. */
    const onEachNode = async <T>(fn: (node: Redis, ids: string[]) => Promise<T>): Promise<T[]> =>
      Promise.all(
        nodes().map(async (node) => {
          node.on('error', () => undefined);
          try {
            await node.connect();
            const list = String(await node.client('LIST'));
            return await fn(
              node,
              [...list.matchAll(listenerName)].map((m) => m[1]!),
            );
          } finally {
            node.disconnect();
          }
        }),
      );
    return {
      topic: (topic, oneShard = false) => (oneShard ? `{${prefix}}:${topic}` : `${prefix}:${topic}`),
      open: (handlers) => new RedisPubSub({ ...handlers, connect: connectUrl(url, `${name}:${++opened}`), sharded }),
      async killListeners() {
        const killed = await onEachNode(async (node, ids) => {
          for (const id of ids) await node.client('KILL', 'ID', id);
          return ids.length;
        });
        return killed.reduce((a, b) => a + b, 0);
      },
      listenerConnections: () => onEachNode(async (_node, ids) => ids.length),
    };
  },
  unreachable: isCluster(broker)
    ? undefined // a Cluster queues commands until a node answers: nothing fails
    : (port, handlers) => new RedisPubSub({ ...handlers, connect: connectUrl(`redis://127.0.0.1:${port}/0`), sharded: false }),
});

const isCluster = (broker: BrokerTarget): boolean => broker.name === 'redis-cluster';

/** PostgreSQL: a schema of its own per namespace (for the overflow table), listeners named after it. */
export const postgresTarget = (broker: BrokerTarget): PubSubTarget => ({
  name: broker.name,
  describe: broker.describe,
  reportsSender: true,
  async namespace() {
    const made = new URL(broker.makeUrl('pubsub'));
    const schema = made.searchParams.get('schema')!;
    made.search = '';
    const url = made.toString();
    const applicationName = `errand:pubsub:${schema}`;
    const admin = await postgresClient();
    try {
      await admin.query(`CREATE SCHEMA "${schema}"`); // dropped with the describe block's schemas
    } finally {
      await admin.end();
    }
    const count = async (sql: string): Promise<number> => {
      const client = await postgresClient();
      try {
        return (await client.query(sql, [applicationName])).rowCount ?? 0;
      } finally {
        await client.end();
      }
    };
    return {
      topic: (topic) => `${schema}_${topic}`,
      open: (handlers) =>
        new PostgresPubSub({
          ...handlers,
          config: { connectionString: url },
          applicationName,
          overflowTable: `"${schema}"."overflow"`,
        }),
      killListeners: () => count('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1'),
      listenerConnections: async () => [await count('SELECT pid FROM pg_stat_activity WHERE application_name = $1')],
    };
  },
  unreachable: (port, handlers) =>
    new PostgresPubSub({
      ...handlers,
      config: { connectionString: `postgres://postgres@127.0.0.1:${port}/test`, connectionTimeoutMillis: 2000 },
      applicationName: 'errand:pubsub:unreachable',
    }),
});

/** A loopback port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
