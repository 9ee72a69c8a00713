import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import type { ClaimedTask } from '../../../src/core/backend.js';
import { describeRedis, REDIS_URL, testClient, uniquePrefix } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { newTask } from './helpers.js';

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

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

interface Counter {
  url: string;
  start(prefix: string): Promise<void>;
  /** Commands since start() (the counting itself excluded). */
  stop(): Promise<number>;
  close(): Promise<void>;
}

async function privateServerCounter(): Promise<Counter> {
  const port = await freePort();
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}/0`;
  const client = testClient(url);
  await waitFor(
    async () =>
      client.connect().then(
        () => true,
        () => false,
      ),
    10_000,
    'private redis-server',
  );
  const total = async (): Promise<number> => {
    const info = await client.info('commandstats');
    let sum = 0;
    for (const m of info.matchAll(/cmdstat_[^:]+:calls=(\d+)/g)) sum += Number(m[1]);
    return sum;
  };
  let before = 0;
  return {
    url,
    async start() {
      before = await total();
    },
    async stop() {
      // the INFO call that read `before` is counted once in the second reading
      return (await total()) - before - 1;
    },
    async close() {
      client.disconnect();
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    },
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
