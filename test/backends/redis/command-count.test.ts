import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import type { ClaimedTask } from '../../../src/core/backend.js';
import { describeRedis, REDIS_URL, testClient, uniquePrefix } from '../../support/redis.js';
import { hasRedisServer, newTask, startPrivateRedis, useBackends } from './helpers.js';

/**
 * The protocol's cost: commands Redis executes per task on the busy path
 * (enqueue + claim + complete), EVALSHA and every redis.call inside counted,
 * status PUBLISHes included. Counted from INFO commandstats deltas on a
 * private, otherwise idle redis-server when one can be started (tests run in
 * parallel on the shared one); else from MONITOR lines naming this test's
 * prefix on the shared server.
 */
const N = 1000;
const BUDGET = 12;

interface Counter {
  url: string;
  start(prefix: string): Promise<void>;
  /** Commands since start() (the counting itself excluded). */
  stop(): Promise<number>;
  close(): Promise<void>;
}

/** INFO commandstats deltas on a private redis-server of this file's own. */
async function privateServerCounter(): Promise<Counter> {
  const server = await startPrivateRedis();
  return {
    url: server.url,
    async start() {
      await server.commandTotal();
    },
    stop: () => server.commandTotal(),
    close: () => server.close(),
  };
}

async function monitorCounter(): Promise<Counter> {
  const client = testClient();
  await client.connect();
  const monitor = await client.monitor();
  let tag = '';
  let count = 0;
  let counting = false;
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (counting && args.some((a) => a.includes(tag))) count++;
  });
  return {
    url: REDIS_URL,
    async start(prefix) {
      tag = `{${prefix}}`;
      count = 0;
      counting = true;
    },
    async stop() {
      await new Promise((r) => setTimeout(r, 200));
      counting = false;
      return count;
    },
    async close() {
      monitor.disconnect();
      client.disconnect();
    },
  };
}

describeRedis('redis backend: commands per task', () => {
  let counter: Counter;
  beforeAll(async () => {
    counter = hasRedisServer() ? await privateServerCounter() : await monitorCounter();
  });
  afterAll(async () => {
    await counter?.close();
  });

  async function measure(enqueue: (b: RedisBackend, tasks: ReturnType<typeof newTask>[]) => Promise<void>): Promise<number> {
    const prefix = uniquePrefix('count');
    const b = new RedisBackend({ url: counter.url, prefix, resultTtlMs: 60_000, deadLetterLimit: 10 });
    try {
      // warm up: connections open, scripts loaded
      await b.enqueue(newTask());
      const warm = await b.claim({ workerId: 'w', queues: ['default'], limit: 50, leaseMs: 30_000, waitMs: 0 });
      await Promise.all(warm.map((t) => b.complete(t, 'null')));

      const tasks = Array.from({ length: N }, () => newTask());
      await counter.start(prefix);
      await enqueue(b, tasks);
      let done = 0;
      while (done < N) {
        const claimed: ClaimedTask[] = await b.claim({
          workerId: 'w',
          queues: ['default'],
          limit: 50,
          leaseMs: 30_000,
          waitMs: 0,
        });
        expect(claimed.length).toBeGreaterThan(0);
        const recorded = await Promise.all(claimed.map((t) => b.complete(t, '{"ok":true}')));
        expect(recorded.every(Boolean)).toBe(true);
        done += claimed.length;
      }
      return (await counter.stop()) / N;
    } finally {
      await b.close();
    }
  }

  it(`enqueueMany + claim (batches of 50) + complete costs at most ${BUDGET} commands per task`, async () => {
    const perTask = await measure(async (b, tasks) => {
      for (let i = 0; i < tasks.length; i += 100) await b.enqueueMany(tasks.slice(i, i + 100));
    });
    console.log(`redis commands per task (enqueueMany by 100): ${perTask.toFixed(2)}`);
    expect(perTask).toBeGreaterThan(5);
    expect(perTask).toBeLessThanOrEqual(BUDGET);
  });

  it(`single enqueue + claim (batches of 50) + complete costs at most ${BUDGET} commands per task`, async () => {
    const perTask = await measure(async (b, tasks) => {
      for (const t of tasks) await b.enqueue(t);
    });
    console.log(`redis commands per task (single enqueue): ${perTask.toFixed(2)}`);
    expect(perTask).toBeLessThanOrEqual(BUDGET);
  });
});

describeRedis('redis backend: the batch ack rides on the next claim', () => {
  it('an ack queued when the worker claims again goes in the claim script: one EVALSHA for both', async () => {
    const server = await startPrivateRedis();
    const b = new RedisBackend({ url: server.url, prefix: uniquePrefix('ride'), resultTtlMs: 60_000, deadLetterLimit: 10 });
    try {
      const claim = () => b.claim({ workerId: 'w', queues: ['default'], limit: 1, leaseMs: 30_000, waitMs: 0 });
      const [first, second] = [newTask(), newTask()];
      await b.enqueueMany([first, second]);
      const [running] = await claim();
      expect(running?.id).toBe(first.id);
      await server.commands();
      // what a worker does when a task ends: the ack, then (its slot free) the next claim
      const acked = b.complete(running!, '1');
      const next = await claim();
      expect(await acked).toBe(true);
      expect(next.map((t) => t.id)).toEqual([second.id]);
      // a script's first call on this server is an EVAL (ioredis falls back to it on NOSCRIPT)
      const scriptCalls = (counts: Map<string, number>) => (counts.get('evalsha') ?? 0) + (counts.get('eval') ?? 0);
      expect(scriptCalls(await server.commands())).toBe(1);
      expect(await b.getInfo(first.id)).toMatchObject({ state: 'SUCCESS', result: 1 });
      // alone (no claim follows), an ack still goes out by itself
      expect(await b.complete(next[0]!, '2')).toBe(true);
      expect(scriptCalls(await server.commands())).toBe(1);
    } finally {
      await b.close();
      await server.close();
    }
  });
});

describeRedis('redis backend: acks of every kind ride on a claim', () => {
  const backends = useBackends();

  it('a success, a failure and a dead letter queued before a claim are all recorded by it', async () => {
    const b = backends.make();
    const tasks = [newTask(), newTask(), newTask(), newTask()];
    await b.enqueueMany(tasks);
    const claim = (limit: number) => b.claim({ workerId: 'w', queues: ['default'], limit, leaseMs: 30_000, waitMs: 0 });
    const [ok, failed, dead] = await claim(3);
    const acks = [
      b.complete(ok!, '"done"'),
      b.fail(failed!, { type: 'Boom', message: 'failed' }),
      b.deadLetter(dead!, { type: 'DecodeError', message: 'unreadable' }),
    ];
    const next = await claim(1);
    expect(await Promise.all(acks)).toEqual([true, true, true]);
    expect(next.map((t) => t.id)).toEqual([tasks[3]!.id]);
    expect(await b.getInfo(ok!.id)).toMatchObject({ state: 'SUCCESS', result: 'done' });
    expect(await b.getInfo(failed!.id)).toMatchObject({ state: 'FAILURE', error: { type: 'Boom' } });
    expect((await b.listDeadLetters(10)).map((d) => d.id)).toEqual([dead!.id]);
  });
});
