import { Cluster } from 'ioredis';
import { expect, it } from 'vitest';
import { createRedisChannelLayer } from '../../src/channels/index.js';
import { describeRedisCluster } from '../support/redis-cluster.js';
import { describeChannelLayer, take } from './channel-suite.js';

let n = 0;
const uniquePrefix = () => `errand-channels-${process.pid}-${++n}`;

// The channel-layer suite on a local 3-master Redis Cluster of its own (started for this file).
await describeRedisCluster('redis channel layer on a cluster', (cluster) => {
  const url = `redis+cluster://${cluster.nodes.join(',')}/`;

  // Two layer instances on one prefix behave as two processes (each has its own connections).
  describeChannelLayer({
    name: 'redis-cluster',
    async open(options) {
      const prefix = uniquePrefix();
      return {
        a: createRedisChannelLayer({ url, prefix, ...options }),
        b: createRedisChannelLayer({ url, prefix, ...options }),
      };
    },
  });

  it('uses sharded pub/sub: each topic is subscribed on the master of its slot, none with SUBSCRIBE', async () => {
    const prefix = uniquePrefix();
    const a = createRedisChannelLayer({ url, prefix });
    const b = createRedisChannelLayer({ url, prefix });
    const admin = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    try {
      const groups = Array.from({ length: 12 }, (_, i) => `room${i}`);
      const mine = await a.newChannel('test');
      for (const group of groups) await a.groupAdd(group, mine);
      const inbox = a.receive(mine);
      for (const group of groups) await b.groupSend(group, { group });
      expect((await take(inbox, groups.length)).map((m) => m.group).sort()).toEqual([...groups].sort());

      await admin.ping();
      const masters = admin.nodes('master');
      const sharded = new Map<string, number>();
      let plain = 0;
      for (const node of masters) {
        const channels = (await node.call('PUBSUB', 'SHARDCHANNELS', `${prefix}:*`)) as string[];
        for (const channel of channels) sharded.set(channel, (sharded.get(channel) ?? 0) + 1);
        plain += ((await node.call('PUBSUB', 'CHANNELS', `${prefix}:*`)) as string[]).length;
      }
      expect(plain).toBe(0);
      // 12 groups + 2 inboxes, each on exactly one master; 12 topics land on more than one of the 3
      expect(sharded.size).toBe(groups.length + 2);
      expect([...sharded.values()].every((count) => count === 1)).toBe(true);
      const used = await Promise.all(
        masters.map(async (node) => ((await node.call('PUBSUB', 'SHARDCHANNELS', `${prefix}:*`)) as string[]).length),
      );
      expect(used.filter((count) => count > 0).length).toBeGreaterThan(1);
    } finally {
      admin.disconnect();
      await a.close();
      await b.close();
    }
  });
});
