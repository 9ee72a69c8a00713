/**
 * Workload 2, manual rate limit: TASKS tasks call a simulated provider that
 * answers "429, retry after N ms" beyond LIMIT calls per 100 ms window. The
 * handler passes the 429 on: errand `ctx.rateLimited(N)`, BullMQ
 * `await worker.rateLimit(N); throw Worker.RateLimitError()`. One worker at
 * concurrency 50, queue pre-filled; timed from the worker's start to the
 * last success. Also with each system's own limiter set to the provider's
 * quota (errand `rateLimit`, BullMQ `limiter`), the manual path as fallback.
 */
import { Queue, Worker } from 'bullmq';
import { clock } from '../clock.js';
import { chunks, fmt, interleave, maxOf, med, openErrand, sumOf, table, until, watchOutcomes, type Settings } from './common.js';
import { bullmqStore, errandStore, redisOptions } from './env.js';
import { Provider } from './provider.js';

const LIMIT = 50;
const WINDOW_MS = 100;
const CONCURRENCY = 50;
const VARIANTS = [
  'errand-redis: ctx.rateLimited (task has a rateLimit key)',
  'errand-redis: ctx.rateLimited (no rateLimit option)',
  'bullmq: worker.rateLimit + RateLimitError',
  'errand-redis: rateLimit 50/100 ms + ctx.rateLimited',
  'bullmq: limiter 50/100 ms + worker.rateLimit',
] as const;
type Variant = (typeof VARIANTS)[number];
type Measure = 'seconds' | 'callsPerTask' | 'lost' | 'failed' | 'duplicates';
type Trial = Record<Measure, number>;

function finish(count: number, provider: Provider, seconds: number, completed: number, failed: number): Trial {
  return {
    seconds,
    callsPerTask: provider.calls / count,
    lost: count - completed - failed,
    failed,
    // successful provider calls beyond one per task: a task whose call went through twice
    duplicates: provider.calls - provider.rejected - count,
  };
}

async function errandTrial(count: number, mode: 'hold' | 'alone' | 'limiter'): Promise<Trial> {
  const store = errandStore('redis');
  const app = openErrand(store.url);
  const provider = new Provider(LIMIT, WINDOW_MS);
  try {
    const rateLimit =
      mode === 'hold'
        ? { limit: 10_000, per: 1000 } // never binds (500 calls/s get through): it only gives ctx.rateLimited a key to hold
        : mode === 'limiter'
          ? { limit: LIMIT, per: WINDOW_MS }
          : undefined;
    const task = app.task(
      'flow.call',
      (ctx, _i: number): null => {
        const answer = provider.call();
        if (!answer.ok) ctx.rateLimited(answer.retryAfterMs);
        return null;
      },
      rateLimit ? { rateLimit } : {},
    );
    const outcomes = watchOutcomes(app);
    for (const batch of chunks(
      Array.from({ length: count }, (_, i): [number] => [i]),
      1000,
    ))
      await task.delayMany(batch);
    const worker = app.worker({ concurrency: CONCURRENCY, handleSignals: false });
    const t0 = clock();
    await worker.start();
    await until(() => outcomes.completed + outcomes.failed >= count, 60_000, 'errand rate limit').catch(() => {});
    const seconds = (clock() - t0) / 1000;
    return finish(count, provider, seconds, outcomes.completed, outcomes.failed);
  } finally {
    await app.close();
    await store.cleanup();
  }
}

async function bullmqTrial(count: number, withLimiter: boolean): Promise<Trial> {
  const store = bullmqStore();
  const connection = { ...redisOptions };
  const queue = new Queue('calls', { connection, prefix: store.prefix });
  const provider = new Provider(LIMIT, WINDOW_MS);
  let completed = 0;
  let failed = 0;
  const worker: Worker = new Worker(
    'calls',
    async () => {
      const answer = provider.call();
      if (!answer.ok) {
        await worker.rateLimit(answer.retryAfterMs);
        throw Worker.RateLimitError();
      }
    },
    {
      connection: { ...connection, maxRetriesPerRequest: null },
      prefix: store.prefix,
      concurrency: CONCURRENCY,
      autorun: false,
      ...(withLimiter ? { limiter: { max: LIMIT, duration: WINDOW_MS } } : {}),
    },
  );
  worker.on('completed', () => completed++);
  worker.on('failed', () => failed++);
  worker.on('error', (error) => console.error('bullmq worker error:', error));
  let running: Promise<void> | undefined;
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    for (const batch of chunks(
      Array.from({ length: count }, (_, i) => ({ name: 'call', data: { i } })),
      1000,
    ))
      await queue.addBulk(batch);
    const t0 = clock();
    running = worker.run();
    await until(() => completed + failed >= count, 60_000, 'bullmq rate limit').catch(() => {});
    const seconds = (clock() - t0) / 1000;
    return finish(count, provider, seconds, completed, failed);
  } finally {
    await worker.close();
    await running;
    await queue.close();
    await store.cleanup();
  }
}

export async function runRateLimit(settings: Settings): Promise<string> {
  const count = settings.quick ? 500 : 2000;
  settings.log(`rate limit: ${count} tasks, ${settings.rounds} round(s)`);
  const results = await interleave<Variant, Measure>(settings, VARIANTS, (variant) => {
    switch (variant) {
      case 'errand-redis: ctx.rateLimited (task has a rateLimit key)':
        return errandTrial(count, 'hold');
      case 'errand-redis: ctx.rateLimited (no rateLimit option)':
        return errandTrial(count, 'alone');
      case 'errand-redis: rateLimit 50/100 ms + ctx.rateLimited':
        return errandTrial(count, 'limiter');
      case 'bullmq: worker.rateLimit + RateLimitError':
        return bullmqTrial(count, false);
      case 'bullmq: limiter 50/100 ms + worker.rateLimit':
        return bullmqTrial(count, true);
    }
  });
  const ideal = (Math.ceil(count / LIMIT) - 1) * (WINDOW_MS / 1000);
  return [
    `## 2. Manual rate limit: ${fmt(count)} tasks against a provider allowing ${LIMIT} calls per ${WINDOW_MS} ms (Redis)`,
    '',
    `The provider answers "429, retry after N ms" (N: the time left in its fixed ${WINDOW_MS} ms window) to any call beyond ${LIMIT} in a window. One worker at concurrency ${CONCURRENCY}, queue pre-filled; completion time from the worker's start to the last success (the quota alone allows it in about ${fmt(ideal, 1)} s). Handler calls per task: provider calls / tasks (1.00 = no wasted attempt). Lost: tasks neither succeeded nor failed 60 s after the start; failed and lost must be 0, and duplicates (successful provider calls beyond one per task) too. Medians of ${settings.rounds} interleaved round(s); lost, failed and duplicates summed over the rounds.`,
    '',
    table(
      ['variant', 'completion (s)', 'handler calls per task', 'worst round', 'lost', 'failed', 'duplicates'],
      VARIANTS.map((v) => [
        v,
        fmt(med(results, v, 'seconds'), 2),
        fmt(med(results, v, 'callsPerTask'), 2),
        fmt(maxOf(results, v, 'callsPerTask'), 2),
        fmt(sumOf(results, v, 'lost')),
        fmt(sumOf(results, v, 'failed')),
        fmt(sumOf(results, v, 'duplicates')),
      ]),
    ),
  ].join('\n');
}
