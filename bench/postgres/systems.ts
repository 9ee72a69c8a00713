/**
 * The three PostgreSQL contenders behind one small surface: errand's
 * postgres:// broker, pg-boss 10 and graphile-worker 0.17. Each lives in its
 * own schema (bench_pg_<system>), dropped before and after every phase.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type PgBoss from 'pg-boss';
import type * as GraphileWorker from 'graphile-worker';
import { clock } from '../clock.js';

export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const SYSTEMS = ['errand', 'pg-boss', 'graphile-worker'] as const;
export type PgSystem = (typeof SYSTEMS)[number];
export const schemaOf = (s: PgSystem): string => `bench_pg_${s.replace('-', '_')}`;
const TASK = 'bench_noop';

export interface Producer {
  enqueueBulk(count: number): Promise<void>;
  /** Enqueues one task carrying the producer's clock() reading. */
  sendOne(i: number): Promise<void>;
  /** Enqueues one task through `client`, inside the caller's open transaction. */
  enqueueIn(client: pg.ClientBase, i: number): Promise<void>;
  close(): Promise<void>;
}
export interface WorkerRun {
  start(): Promise<void>;
  close(): Promise<void>;
}
export interface WorkerHooks {
  concurrency: number;
  /** Handler start, with the enqueuer's clock() reading. */
  onStart(sentAt: number): void;
  onDone(): void;
}

export function version(s: PgSystem): string {
  const file =
    s === 'errand'
      ? new URL('../../package.json', import.meta.url)
      : new URL(`../../node_modules/${s}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export async function dropSchema(s: PgSystem): Promise<void> {
  const c = new pg.Client(PG_URL);
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schemaOf(s)} CASCADE`);
  } finally {
    await c.end();
  }
}

/** Tasks the database records as done (errand SUCCESS, pg-boss completed, graphile: rows gone). */
export async function countDone(c: pg.ClientBase, s: PgSystem, total: number): Promise<number> {
  const schema = schemaOf(s);
  if (s === 'errand')
    return Number((await c.query(`SELECT count(*) AS n FROM ${schema}.tasks WHERE state = 'SUCCESS'`)).rows[0].n);
  if (s === 'pg-boss')
    return Number(
      (await c.query(`SELECT count(*) AS n FROM ${schema}.job WHERE name = $1 AND state = 'completed'`, [TASK])).rows[0].n,
    );
  return total - Number((await c.query(`SELECT count(*) AS n FROM ${schema}._private_jobs`)).rows[0].n);
}

// ---------------------------------------------------------------- errand
async function errandApp() {
  const { createApp } = await import('../../src/index.js');
  return createApp({ broker: `${PG_URL}?schema=${schemaOf('errand')}`, logger: false });
}

async function errandProducer(): Promise<Producer> {
  const app = await errandApp();
  const task = app.task(TASK, (_ctx, _i: number, _sentAt: number): null => null);
  await app.backend.getInfo('bench-warm-up'); // creates the schema
  return {
    async enqueueBulk(count) {
      for (let start = 0; start < count; start += 1000)
        await task.delayMany(Array.from({ length: Math.min(1000, count - start) }, (_, k): [number, number] => [start + k, 0]));
    },
    async sendOne(i) {
      await task.delay(i, clock());
    },
    async enqueueIn(client, i) {
      await task.applyAsync([i, 0], { db: client as pg.PoolClient });
    },
    close: () => app.close(),
  };
}

async function errandWorker(h: WorkerHooks): Promise<WorkerRun> {
  const app = await errandApp();
  app.task(TASK, (_ctx, _i: number, sentAt: number): null => {
    h.onStart(sentAt);
    return null;
  });
  const backend = app.backend;
  const complete = backend.complete.bind(backend);
  backend.complete = async (task, resultJson) => {
    const info = await complete(task, resultJson);
    if (info) h.onDone();
    return info;
  };
  await backend.getInfo('bench-warm-up');
  const worker = app.worker({ concurrency: h.concurrency, handleSignals: false });
  return { start: () => worker.start(), close: () => app.close() };
}

// ---------------------------------------------------------------- pg-boss
async function boss(): Promise<PgBoss> {
  const { default: PgBoss } = await import('pg-boss');
  // supervise/schedule off: maintenance and cron are not what is measured (and would add load).
  const b = new PgBoss({ connectionString: PG_URL, schema: schemaOf('pg-boss'), supervise: false, schedule: false });
  b.on('error', (e) => console.error('pg-boss error', e));
  await b.start();
  return b;
}

async function bossProducer(): Promise<Producer> {
  const b = await boss();
  await b.createQueue(TASK);
  return {
    async enqueueBulk(count) {
      for (let start = 0; start < count; start += 1000)
        await b.insert(
          Array.from({ length: Math.min(1000, count - start) }, (_, k) => ({ name: TASK, data: { i: start + k, sentAt: 0 } })),
        );
    },
    async sendOne(i) {
      await b.send(TASK, { i, sentAt: clock() });
    },
    async enqueueIn(client, i) {
      await b.send(
        TASK,
        { i, sentAt: 0 },
        { db: { executeSql: (text: string, values: unknown[]) => client.query(text, values) } },
      );
    },
    close: () => b.stop({ graceful: false, wait: true }),
  };
}

/**
 * pg-boss 10 has no LISTEN/NOTIFY and no per-worker concurrency option: one
 * work() loop fetches up to batchSize jobs, runs the handler, then sleeps
 * until pollingInterval has passed since the fetch began. "Concurrency c"
 * is one work() with batchSize c, polling at the documented minimum (0.5 s);
 * the handler runs the batch's jobs in parallel.
 */
async function bossWorker(h: WorkerHooks): Promise<WorkerRun> {
  const b = await boss();
  return {
    async start() {
      await b.work<{ i: number; sentAt: number }>(
        TASK,
        { batchSize: h.concurrency, pollingIntervalSeconds: 0.5 },
        async (jobs: Array<{ data: { i: number; sentAt: number } }>) => {
          await Promise.all(jobs.map(async (job: { data: { sentAt: number } }) => h.onStart(job.data.sentAt)));
          for (let k = 0; k < jobs.length; k++) h.onDone(); // completion is written after this returns (not awaited by pg-boss)
        },
      );
    },
    close: () => b.stop({ graceful: false, wait: true }),
  };
}

// ---------------------------------------------------------------- graphile-worker
async function graphileProducer(): Promise<Producer> {
  const gw = await import('graphile-worker');
  const schema = schemaOf('graphile-worker');
  const utils = await gw.makeWorkerUtils({ connectionString: PG_URL, schema, logger: silentLogger(gw) });
  await utils.migrate();
  return {
    async enqueueBulk(count) {
      for (let start = 0; start < count; start += 1000)
        await utils.addJobs(
          Array.from({ length: Math.min(1000, count - start) }, (_, k) => ({
            identifier: TASK,
            payload: { i: start + k, sentAt: 0 },
          })),
        );
    },
    async sendOne(i) {
      await utils.addJob(TASK, { i, sentAt: clock() });
    },
    async enqueueIn(client, i) {
      await client.query(`SELECT ${schema}.add_job($1, $2::json)`, [TASK, JSON.stringify({ i, sentAt: 0 })]);
    },
    close: async () => {
      await utils.release();
    },
  };
}

function silentLogger(gw: typeof GraphileWorker) {
  return new gw.Logger(() => (level: string, message: string) => {
    if (level === 'error') console.error('graphile-worker:', message);
  });
}

/** graphile-worker defaults (LISTEN/NOTIFY, pollInterval 2 s fallback), concurrency c, signals off. */
async function graphileWorker(h: WorkerHooks): Promise<WorkerRun> {
  const gw = await import('graphile-worker');
  let runner: Awaited<ReturnType<typeof gw.run>> | undefined;
  return {
    async start() {
      runner = await gw.run({
        connectionString: PG_URL,
        schema: schemaOf('graphile-worker'),
        concurrency: h.concurrency,
        noHandleSignals: true,
        logger: silentLogger(gw),
        taskList: {
          [TASK]: async (payload) => {
            h.onStart((payload as { sentAt: number }).sentAt);
          },
        },
      });
      runner.events.on('job:complete', ({ error }) => {
        if (!error) h.onDone();
      });
    },
    async close() {
      await runner?.stop();
    },
  };
}

export function openProducer(s: PgSystem): Promise<Producer> {
  return s === 'errand' ? errandProducer() : s === 'pg-boss' ? bossProducer() : graphileProducer();
}
export function openWorker(s: PgSystem, h: WorkerHooks): Promise<WorkerRun> {
  return s === 'errand' ? errandWorker(h) : s === 'pg-boss' ? bossWorker(h) : graphileWorker(h);
}
