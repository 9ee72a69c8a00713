/**
 * Profiles errand's PostgreSQL worker alone, in this process:
 *   node --cpu-prof --cpu-prof-dir=/tmp/errand-pg-prof --import tsx bench/postgres/profile.ts [tasks] [concurrency]
 * Enqueues `tasks` no-op tasks, runs one worker until all are SUCCESS, and
 * prints the SQL statements issued per task (by leading words) and the wall time.
 * Summarise the .cpuprofile with bench/postgres/profile-summary.ts.
 */
import pg from 'pg';
import { clock, sleep } from '../clock.js';
import { countDone, dropSchema, openProducer, openWorker } from './systems.js';

const tasks = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 1);
const counts = new Map<string, number>();
let counting = false;
const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (counting) {
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? '?');
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

await dropSchema('errand');
const producer = await openProducer('errand');
await producer.enqueueBulk(tasks);
await producer.close();
const db = new pg.Client('postgres://postgres@127.0.0.1:5432/test');
await db.connect();
const run = await openWorker('errand', { concurrency, onStart: () => {}, onDone: () => {} });
counting = true;
const t0 = clock();
await run.start();
while ((await countDone(db, 'errand', tasks)) < tasks) await sleep(10);
const ms = clock() - t0;
counting = false;
await run.close();
await db.end();
await dropSchema('errand');
console.log(`${tasks} tasks at concurrency ${concurrency}: ${ms.toFixed(0)} ms, ${((tasks / ms) * 1000).toFixed(0)} tasks/s`);
const total = [...counts.values()].reduce((a, b) => a + b, 0);
console.log(`client.query calls: ${total} (${(total / tasks).toFixed(2)} per task), excluding the 10 ms completion poll:`);
for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 15))
  console.log(`${(n / tasks).toFixed(2).padStart(7)}/task  ${k}`);
