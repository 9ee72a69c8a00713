import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createPostgresChannelLayer } from '../../src/channels/index.js';
import { ConfigError } from '../../src/index.js';
import { describePostgres, POSTGRES_URL, testClient } from '../support/postgres.js';
import { waitFor } from '../support/wait.js';
import { describeChannelLayer, take } from './channel-suite.js';

const prefix = () => `errand_ch_${randomUUID().replace(/-/g, '').slice(0, 10)}`;

describePostgres('postgres channel layer', () => {
  // Two layer instances on one prefix behave as two processes (each has its own connections).
  describeChannelLayer({
    name: 'postgres',
    async open(options) {
      const p = prefix();
      return {
        a: createPostgresChannelLayer({ url: POSTGRES_URL, prefix: p, ...options }),
        b: createPostgresChannelLayer({ url: POSTGRES_URL, prefix: p, ...options }),
      };
    },
  });

  it('a message too big for a NOTIFY payload goes through the overflow table, to one channel and to a group', async () => {
    const p = prefix();
    const a = createPostgresChannelLayer({ url: POSTGRES_URL, prefix: p });
    const b = createPostgresChannelLayer({ url: POSTGRES_URL, prefix: p });
    const client = await testClient();
    try {
      const channel = await b.newChannel();
      await b.groupAdd('big', channel);
      const big = (n: number) => ({ n, text: 'x'.repeat(50_000) });
      const reader = b.receive(channel);
      await a.send(channel, big(1));
      expect(await take(reader, 1)).toEqual([big(1)]);
      // big and small messages to one group arrive in the sender's order
      for (const message of [big(2), { n: 3 }, big(4), { n: 5 }]) await a.groupSend('big', message);
      expect((await take(reader, 4)).map((m) => m.n)).toEqual([2, 3, 4, 5]);
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM "public"."${p}_overflow"`);
      expect(rows[0].n).toBe(3);
    } finally {
      await client.query(`DROP TABLE IF EXISTS "public"."${p}_overflow"`).catch(() => undefined);
      await client.end();
      await a.close();
      await b.close();
    }
  });

  it('the listening connection comes back after it is killed, and group members hear later messages', async () => {
    const p = prefix();
    const a = createPostgresChannelLayer({ url: POSTGRES_URL, prefix: p });
    const b = createPostgresChannelLayer({ url: POSTGRES_URL, prefix: p });
    const admin = await testClient();
    try {
      const channel = await b.newChannel();
      await b.groupAdd('room', channel);
      const reader = b.receive(channel);
      await a.groupSend('room', { n: 1 });
      expect(await take(reader, 1)).toEqual([{ n: 1 }]);
      // kill every connection listening on the layer's channels (b's listener among them)
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN "${p}%' AND pid <> pg_backend_pid()`,
      );
      expect(rowCount).toBeGreaterThan(0);
      let heard: unknown;
      const reading = (async () => {
        for await (const m of reader) {
          heard = m;
          return;
        }
      })();
      await waitFor(async () => {
        await a.groupSend('room', { n: 2 });
        return heard !== undefined;
      }, 15_000);
      await reading;
      expect(heard).toEqual({ n: 2 });
    } finally {
      await admin.end();
      await a.close();
      await b.close();
    }
  }, 30_000);

  it('refuses a bad prefix and another process’s channel in groupAdd', async () => {
    expect(() => createPostgresChannelLayer({ url: POSTGRES_URL, prefix: 'Bad-Prefix' })).toThrow(ConfigError);
    const p = prefix();
    const a = createPostgresChannelLayer({ url: POSTGRES_URL, prefix: p });
    const b = createPostgresChannelLayer({ url: POSTGRES_URL, prefix: p });
    try {
      const theirs = await b.newChannel();
      await expect(a.groupAdd('g', theirs)).rejects.toBeInstanceOf(ConfigError);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
