import { expect, it } from 'vitest';
import { createRedisChannelLayer } from '../../src/channels/index.js';
import { ConfigError } from '../../src/index.js';
import { startChild, stopChild } from '../support/child.js';
import { describeRedis, REDIS_URL, testClient, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { describeChannelLayer, take } from './channel-suite.js';

describeRedis('redis channel layer', () => {
  // Two layer instances on one prefix behave as two processes (each has its own connections).
  describeChannelLayer({
    name: 'redis',
    async open(options) {
      const prefix = uniquePrefix('channels');
      return {
        a: createRedisChannelLayer({ url: REDIS_URL, prefix, ...options }),
        b: createRedisChannelLayer({ url: REDIS_URL, prefix, ...options }),
      };
    },
  });

  it("refuses to add another process's channel to a group", async () => {
    const prefix = uniquePrefix('channels');
    const a = createRedisChannelLayer({ url: REDIS_URL, prefix });
    const b = createRedisChannelLayer({ url: REDIS_URL, prefix });
    try {
      const theirs = await b.newChannel();
      await expect(a.groupAdd('g', theirs)).rejects.toBeInstanceOf(ConfigError);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('works across real processes, and a dead process leaves no group membership behind', async () => {
    const prefix = uniquePrefix('channels');
    const layer = createRedisChannelLayer({ url: REDIS_URL, prefix });
    const child = await startChild('test/fixtures/web/channel-peer.ts', { REDIS_URL, CHANNEL_PREFIX: prefix });
    const redis = testClient();
    await redis.connect();
    try {
      const peerChannel = /ready (\S+)/.exec(child.output())![1]!;
      const mine = await layer.newChannel('test');
      const inbox = layer.receive(mine);
      await layer.groupSend('room', { text: 'hello', replyTo: mine });
      await layer.send(peerChannel, { text: 'direct', replyTo: mine });
      const replies = await take(inbox, 2);
      expect(replies.map((r) => r.echo)).toEqual(['hello', 'direct']);
      expect(replies[0]!.pid).toBe(child.process.pid);

      const subscribers = async () => {
        const [, count] = (await redis.pubsub('NUMSUB', `${prefix}:group:room`)) as [string, number];
        return Number(count);
      };
      expect(await subscribers()).toBe(1);
      await stopChild(child); // SIGKILL: no chance to clean up
      await waitFor(async () => (await subscribers()) === 0, 5000, "Redis to drop the dead process's subscription");
    } finally {
      await stopChild(child);
      redis.disconnect();
      await layer.close();
    }
  });
});
