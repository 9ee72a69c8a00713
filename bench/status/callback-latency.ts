/**
 * Endpoint callbacks: how long from a task's end (its finishedAt) until the
 * caller's endpoint has the signed POST, on SQLite and Redis. One process
 * runs the worker (concurrency 20) and a local receiver on 127.0.0.1;
 * tasks are enqueued at a steady pace, so this is latency, not throughput.
 *
 *   npx tsx bench/status/callback-latency.ts [--quick] [--broker=sqlite|redis]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { createApp } from '../../src/index.js';
import { BROKERS, brokerUrl, HOST, KEY_PREFIX, REDIS_DB, REDIS_PORT, SQLITE_DIR, type BrokerKind } from './env.js';

const SECRET = `whsec_${Buffer.from('errand-bench-callback-secret-012').toString('base64')}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(kind: BrokerKind, tasks: number): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const arrived = new Map<string, number>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      arrived.set((JSON.parse(Buffer.concat(chunks).toString()) as { task_id: string }).task_id, at);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, HOST, resolve));
  const url = `http://${HOST}:${(receiver.address() as AddressInfo).port}/callback`;
  const app = createApp({ broker: brokerUrl(kind, 'callbacks'), logger: false, callbacks: { secret: SECRET, allow: [HOST] } });
  const noop = app.task('bench.noop', () => 1);
  const worker = app.worker({ handleSignals: false, concurrency: 20 });
  await worker.start();
  try {
    const ids: string[] = [];
    for (let i = 0; i < tasks; i++) {
      ids.push((await noop.applyAsync([], { callback: { url } })).id);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const deadline = Date.now() + 60_000;
    while (arrived.size < tasks && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const latencies: number[] = [];
    for (const id of ids) {
      const info = await app.result(id).info();
      const at = arrived.get(id);
      if (info?.finishedAt !== undefined && at !== undefined) latencies.push(at - info.finishedAt);
    }
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1)!, n: latencies.length };
  } finally {
    await app.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  for (const arg of args)
    if (!/^--(quick|broker=(sqlite|redis))$/.test(arg))
      throw new Error(`unknown argument ${arg} (known: --quick, --broker=sqlite|redis)`);
  const quick = args.includes('--quick');
  const only = args.find((a) => a.startsWith('--broker='))?.slice('--broker='.length) as BrokerKind | undefined;
  const tasks = quick ? 300 : 2000;
  await mkdir(SQLITE_DIR, { recursive: true });
  try {
    for (const kind of only ? [only] : BROKERS) {
      const r = await measure(kind, tasks);
      console.log(
        `callback ${kind}: task finished → endpoint has the POST, ${r.n}/${tasks} tasks: p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`,
      );
    }
  } finally {
    await rm(SQLITE_DIR, { recursive: true, force: true });
    const redis = new Redis({ host: HOST, port: REDIS_PORT, db: REDIS_DB, lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect().catch(() => undefined);
    const keys = await redis.keys(`{${KEY_PREFIX}-*`).catch(() => [] as string[]);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

await main();
