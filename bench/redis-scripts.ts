/**
 * Redis time per task of errand's three busy-path scripts (enqueue, claim,
 * finish), from INFO commandstats: batches of `--batch` tasks go through
 * enqueueMany, one claim and one batch ack, `--rounds` times (2 warm-up
 * rounds not counted). Only the script calls are timed, so the figure is
 * what one task costs the Redis thread, whatever the client does.
 *
 *   npx tsx bench/redis-scripts.ts [--batch=250] [--rounds=40]
 *
 * Uses the bench database (BENCH_REDIS_DB, default 15) and flushes it.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisBackend } from '../src/backends/redis/index.js';
import type { NewTask } from '../src/core/backend.js';
import { REDIS_DB, REDIS_HOST, REDIS_PORT } from './config.js';

function flag(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const n = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a whole number >= 1`);
  return n;
}

const batch = flag('batch', 250);
const rounds = flag('rounds', 40);
const url = `redis://${REDIS_HOST}:${REDIS_PORT}/${REDIS_DB}`;
const admin = new Redis(url);
await admin.flushdb();
const backend = new RedisBackend({ url, prefix: 'bench-scripts', resultTtlMs: 86_400_000, deadLetterLimit: 100 });

/** Microseconds Redis has spent in script calls so far. */
async function scriptMicros(): Promise<number> {
  let total = 0;
  for (const m of (await admin.info('commandstats')).matchAll(/cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/g))
    total += Number(m[1]);
  return total;
}

const spent = { enqueue: 0, claim: 0, finish: 0 };
try {
  await backend.getInfo('warm-up');
  for (let round = 0; round < rounds + 2; round++) {
    const now = Date.now();
    const tasks: NewTask[] = Array.from({ length: batch }, (_, i) => ({
      id: randomUUID(),
      name: 'bench.noop',
      queue: 'default',
      payload: `[${i}]`,
      enqueuedAt: now,
      runAt: now,
    }));
    const t0 = await scriptMicros();
    await backend.enqueueMany(tasks);
    const t1 = await scriptMicros();
    const claimed = await backend.claim({
      workerId: 'bench:1:scripts',
      queues: ['default'],
      limit: batch,
      leaseMs: 30_000,
      waitMs: 0,
    });
    const t2 = await scriptMicros();
    await Promise.all(claimed.map((task) => backend.complete(task, 'null')));
    const t3 = await scriptMicros();
    if (claimed.length !== batch) throw new Error(`claimed ${claimed.length} of ${batch}`);
    if (round < 2) continue;
    spent.enqueue += t1 - t0;
    spent.claim += t2 - t1;
    spent.finish += t3 - t2;
  }
  const n = batch * rounds;
  const per = (us: number): string => (us / n).toFixed(2);
  console.log(
    `Redis time per task (µs), batches of ${batch}, ${rounds} rounds: enqueue ${per(spent.enqueue)}, claim ${per(spent.claim)}, finish ${per(spent.finish)}`,
  );
} finally {
  await backend.close();
  await admin.flushdb();
  admin.disconnect();
}
