/**
 * What an open dashboard costs the broker: Redis commands per second with
 * the dashboard served but no tab open, with one live tab, and with five,
 * while a worker runs a light steady load (20 tasks/s) over a prefix that
 * keeps `--kept` finished tasks. A tab is the page's live stream (SSE,
 * `GET /dashboard/api/live`), which reads every panel each refresh (2 s).
 *
 *   npx tsx bench/observability/dashboard-cost.ts [--kept=10000] [--seconds=20]
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createApp } from '../../src/index.js';
import { serveDashboard } from '../../src/web/dashboard/serve.js';

const flag = (name: string, fallback: number): number => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const n = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a whole number >= 1`);
  return n;
};
const KEPT = flag('kept', 10_000);
const SECONDS = flag('seconds', 20);
const REDIS = process.env.ERRAND_BENCH_REDIS ?? 'redis://127.0.0.1:6379/0';

const prefix = `bench-dash-${randomUUID().slice(0, 8)}`;
const app = createApp({ broker: `${REDIS}?prefix=${prefix}`, logger: false });
const noop = app.task('bench.noop', () => 1);
const redis = new Redis(REDIS);
const commands = async (): Promise<number> => Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))![1]);

const worker = app.worker({ handleSignals: false, concurrency: 10 });
await worker.start();
for (let i = 0; i < KEPT; i += 1000) {
  const batch = await noop.delayMany(Array.from({ length: Math.min(1000, KEPT - i) }, () => []));
  await Promise.all(batch.map((r) => r.get({ timeout: 60_000 })));
}
const load = setInterval(() => void noop.delay(), 50);
const dashboard = await serveDashboard({ app, port: 0 });

/** Commands per second over SECONDS with `tabs` live streams open. */
async function measure(tabs: number): Promise<number> {
  const controllers = Array.from({ length: tabs }, () => new AbortController());
  const streams = await Promise.all(
    controllers.map(async (c) => {
      const response = await fetch(`${dashboard.url}api/live`, { signal: c.signal });
      void response.body?.pipeTo(new WritableStream()).catch(() => {});
    }),
  );
  void streams;
  await new Promise((resolve) => setTimeout(resolve, 3000)); // past the first full read
  const before = await commands();
  const t0 = Date.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const rate = ((await commands()) - before) / ((Date.now() - t0) / 1000);
  for (const c of controllers) c.abort();
  return rate;
}

const rows: Array<[string, number]> = [];
for (const tabs of [0, 1, 5]) rows.push([`${tabs} tab${tabs === 1 ? '' : 's'}`, await measure(tabs)]);
clearInterval(load);
console.log(`Redis commands/s, ${KEPT} kept tasks, worker at 20 tasks/s, ${SECONDS} s each (all clients of this Redis):`);
const base = rows[0]![1];
for (const [label, rate] of rows)
  console.log(`  ${label.padEnd(7)} ${rate.toFixed(0).padStart(6)}/s  (+${(rate - base).toFixed(0)} over no tab)`);
await dashboard.close();
await app.close();
const keys = await redis.keys(`{${prefix}}:*`);
for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
await redis.quit();
