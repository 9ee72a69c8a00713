import type { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { createApp, type Errand } from '../../../src/index.js';
import { expectCorruptRecordIsolated, expectUnreadableReported, messageLogger } from '../../support/unreadable.js';
import { describeRedis, uniquePrefix, uniqueRedisUrl } from '../../support/redis.js';
import { claimReq, useBackends, newTask, withClient } from './helpers.js';

/** One way a task record can be garbage; `apply` writes it straight into the task's hash. */
interface Garbage {
  what: string;
  apply(client: Redis, key: string): Promise<unknown>;
  /** The dead letter's error. */
  type?: string;
  message: RegExp;
}

const now = Date.now();
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

const GARBAGE: Garbage[] = [
  { what: 'j is not JSON', apply: (c, k) => c.hset(k, 'j', '"name":"corrupt.echo","queue":'), message: /field j/ },
  { what: 'j is missing', apply: (c, k) => c.hdel(k, 'j'), message: /field j/ },
  {
    what: 'j has the wrong types',
    apply: (c, k) => c.hset(k, 'j', '"name":5,"queue":"default","enqueuedAt":"soon"'),
    message: /field j/,
  },
  { what: 'e is not a number', apply: (c, k) => c.hset(k, 'e', 'soon'), message: /field e/ },
  { what: 'm is not a state record', apply: (c, k) => c.hset(k, 'm', 'garbage'), message: /field m/ },
  { what: 'm has a version that is no number', apply: (c, k) => c.hset(k, 'm', `PENDING|x|0|0|${now}||||`), message: /field m/ },
  { what: 'm has an unknown state', apply: (c, k) => c.hset(k, 'm', `LOST|1|0|0|${now}||||`), message: /field m/ },
  { what: 'm is missing', apply: (c, k) => c.hdel(k, 'm'), message: /field m/ },
  { what: 'x is not a number', apply: (c, k) => c.hset(k, 'x', 'later'), message: /field x/ },
  { what: 'E is not JSON', apply: (c, k) => c.hset(k, 'E', '{"type":'), message: /field E/ },
  { what: 'E is not an error object', apply: (c, k) => c.hset(k, 'E', '[1]'), message: /field E/ },
  { what: 'P is not JSON', apply: (c, k) => c.hset(k, 'P', 'half'), message: /field P/ },
  { what: 'p is not JSON', apply: (c, k) => c.hset(k, 'p', '["unterminated'), message: /not valid JSON/ },
  { what: 'p is missing', apply: (c, k) => c.hdel(k, 'p'), message: /field p/ },
  { what: 'p is not an array', apply: (c, k) => c.hset(k, 'p', '{"a":1}'), message: /not an array/ },
  {
    what: 'p is binary',
    apply: (c, k) => c.hset(k, 'p', Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x5b])),
    message: /not valid JSON/,
  },
  { what: 'p nests 200000 arrays', apply: (c, k) => c.hset(k, 'p', deep(200_000)), message: /nested deeper than/ },
  { what: 'p nests 200000 objects', apply: (c, k) => c.hset(k, 'p', `[${deepObject(200_000)}]`), message: /nested deeper than/ },
  {
    what: 'j names an unknown task',
    apply: (c, k) => c.hset(k, 'j', `"name":"corrupt.nobody","queue":"default","enqueuedAt":${now}`),
    type: 'UnknownTaskError',
    message: /corrupt\.nobody/,
  },
];

interface Env {
  app: Errand;
  echo: ReturnType<typeof defineEcho>;
  key(id: string): string;
  /** Messages the app logged at warn and error level. */
  logs: string[];
}

function defineEcho(app: Errand) {
  return app.task('corrupt.echo', (_ctx, value: unknown) => value);
}

describeRedis('redis: corrupt task records', () => {
  const backends = useBackends();
  const apps: Errand[] = [];

  function setup(): Env {
    const url = uniqueRedisUrl('corrupt');
    const prefix = new URL(url).searchParams.get('prefix')!;
    const { logger, messages: logs } = messageLogger();
    const app = createApp({ broker: url, logger });
    apps.push(app);
    return { app, echo: defineEcho(app), key: (id) => `{${prefix}}:t:${id}`, logs };
  }

  async function closeAll(): Promise<void> {
    for (const app of apps.splice(0)) await app.close();
  }

  it.each(GARBAGE)(
    'when $what, the task is dead-lettered and its neighbours in the same claim batch run at once',
    async (garbage) => {
      const env = setup();
      try {
        let unwatch = async (): Promise<void> => {};
        await expectCorruptRecordIsolated({
          ...env,
          messages: env.logs,
          corrupt: async (id) => {
            await withClient((c) => garbage.apply(c, env.key(id)));
            // Watched, so that the scripts build (and publish) its status events too.
            unwatch = await env.app.backend.subscribeStatus(id, () => {});
          },
          expected: garbage,
        });
        await unwatch();
      } finally {
        await closeAll();
      }
    },
  );

  it.each([
    { field: 'j', value: '"name":', state: 'PENDING' },
    { field: 'e', value: 'soon', state: 'PENDING' },
    { field: 'm', value: 'PENDING|1|0', state: 'PENDING' },
    { field: 'm', value: 'garbage', state: 'PENDING' },
    { field: 'E', value: '{"type":"E"', state: 'FAILURE' },
    { field: 'P', value: '{"current":', state: 'PROGRESS' },
    { field: 'R', value: '{"result":', state: 'SUCCESS' },
    { field: 'R', value: deep(100_000), state: 'SUCCESS' },
  ])(
    'info() of a record whose field $field is unreadable is FAILURE with a DecodeError naming the field; get() and the poll route say so',
    async ({ field, value }) => {
      const env = setup();
      try {
        const r = await env.echo.delay('x');
        await withClient((c) => c.hset(env.key(r.id), field, value));
        await expectUnreadableReported(env.app, r, `field ${field}`);
      } finally {
        await closeAll();
      }
    },
  );

  it('a record corrupted while it runs fails no other acknowledgement of its batch, and is dead-lettered later', async () => {
    const prefix = uniquePrefix('corrupt');
    const b = backends.make({ prefix });
    const [good, bad] = [newTask(), newTask()];
    await b.enqueueMany([good, bad]);
    const claimed = await b.claim(claimReq('w1'));
    expect(claimed.map((c) => c.id)).toEqual([good.id, bad.id]);
    const lease = Date.now() + 30_000;
    // still owned by w1 at attempt 1, but its version is garbage
    await withClient((c) => c.hset(`{${prefix}}:t:${bad.id}`, 'm', `STARTED|x|1|0|${now}|${now}||${lease}|w1`));
    // one event-loop turn: one finish script call for both
    const [okGood, okBad] = await Promise.all([b.complete(claimed[0]!, '1'), b.complete(claimed[1]!, '2')]);
    expect(okGood).toBe(true);
    expect(okBad).toBe(false);
    expect((await b.getInfo(good.id))?.state).toBe('SUCCESS');
    expect(await b.getInfo(bad.id)).toMatchObject({ state: 'FAILURE', error: { type: 'DecodeError' } });
    expect(await b.extendLeases([claimed[1]!], 30_000)).toEqual([bad.id]);
    // Its lease runs out: rescue puts it back in its queue, the next claim hands it out as undecodable.
    await withClient((c) => c.zadd(`{${prefix}}:leases`, 0, bad.id));
    await b.rescueExpired();
    const [again] = await b.claim(claimReq('w2'));
    expect(again).toMatchObject({ id: bad.id, workerId: 'w2' });
    expect(again!.undecodable).toMatch(/field m/);
    expect(await b.deadLetter(again!, { type: 'DecodeError', message: again!.undecodable! })).toBe(true);
    expect((await b.listDeadLetters(10)).map((l) => l.id)).toEqual([bad.id]);
  });
});
