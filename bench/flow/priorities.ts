/**
 * Workload 1, priorities: TASKS no-op tasks with priorities drawn from 10
 * levels (the same seeded draws for every system), bulk-enqueued in batches
 * of 1,000, then drained by one worker at concurrency 50. Also without
 * priorities, for what priorities cost each system.
 *
 * Order quality: walking the handler starts in order, the fraction of tasks
 * that started while a task of a higher level was still waiting (all tasks
 * are waiting when the worker starts).
 */
import { Queue, Worker } from 'bullmq';
import { clock } from '../clock.js';
import {
  all,
  chunks,
  fmt,
  interleave,
  med,
  maxOf,
  openErrand,
  paired,
  prng,
  table,
  until,
  watchOutcomes,
  type Settings,
} from './common.js';
import { bullmqStore, errandStore, redisOptions } from './env.js';

const LEVELS = 10;
const CONCURRENCY = 50;
const VARIANTS = ['errand-redis, priorities', 'bullmq, priorities', 'errand-redis, none', 'bullmq, none'] as const;
type Variant = (typeof VARIANTS)[number];
type Measure = 'enqueue' | 'drain' | 'inverted';

interface Trial {
  enqueue: number;
  drain: number;
  inverted: number;
}

/** Level of each task, 0 (lowest) to 9 (highest). */
function draws(count: number): number[] {
  const random = prng(11);
  return Array.from({ length: count }, () => Math.floor(random() * LEVELS));
}

/** Fraction of starts that had a higher level still waiting. */
function inversions(levels: readonly number[], starts: readonly number[]): number {
  const waiting = new Array<number>(LEVELS).fill(0);
  for (const level of levels) waiting[level]!++;
  let inverted = 0;
  for (const level of starts) {
    for (let higher = level + 1; higher < LEVELS; higher++)
      if (waiting[higher]! > 0) {
        inverted++;
        break;
      }
    waiting[level]!--;
  }
  return inverted / starts.length;
}

async function errandTrial(levels: readonly number[], withPriorities: boolean): Promise<Trial> {
  const store = errandStore('redis');
  const app = openErrand(store.url);
  try {
    const starts: number[] = [];
    const task = app.task('flow.prio', (_ctx, _i: number, level: number): null => {
      starts.push(level);
      return null;
    });
    const outcomes = watchOutcomes(app);
    await app.backend.getInfo('warm-up');
    const t0 = clock();
    for (const batch of chunks(
      levels.map((level, i) => ({ args: [i, level] as [number, number], options: withPriorities ? { priority: level } : {} })),
      1000,
    ))
      await task.applyAsyncMany(batch);
    const enqueued = clock();
    const worker = app.worker({ concurrency: CONCURRENCY, handleSignals: false });
    const t1 = clock();
    await worker.start();
    await until(() => outcomes.completed + outcomes.failed >= levels.length, 120_000, 'errand priorities');
    const drained = clock();
    if (outcomes.failed > 0) throw new Error(`${outcomes.failed} tasks failed`);
    return {
      enqueue: levels.length / ((enqueued - t0) / 1000),
      drain: levels.length / ((drained - t1) / 1000),
      inverted: withPriorities ? inversions(levels, starts) : NaN,
    };
  } finally {
    await app.close();
    await store.cleanup();
  }
}

async function bullmqTrial(levels: readonly number[], withPriorities: boolean): Promise<Trial> {
  const store = bullmqStore();
  const connection = { ...redisOptions };
  const queue = new Queue('prio', { connection, prefix: store.prefix });
  const starts: number[] = [];
  let completed = 0;
  let failed = 0;
  const worker = new Worker(
    'prio',
    async (job) => {
      starts.push((job.data as { level: number }).level);
    },
    { connection: { ...connection, maxRetriesPerRequest: null }, prefix: store.prefix, concurrency: CONCURRENCY, autorun: false },
  );
  worker.on('completed', () => completed++);
  worker.on('failed', () => failed++);
  worker.on('error', (error) => console.error('bullmq worker error:', error));
  let running: Promise<void> | undefined;
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    const t0 = clock();
    // BullMQ: 1 is the highest priority, 0 is "none"; our level 9 (highest) is priority 1.
    for (const batch of chunks(
      levels.map((level, i) => ({ name: 'prio', data: { i, level }, opts: withPriorities ? { priority: LEVELS - level } : {} })),
      1000,
    ))
      await queue.addBulk(batch);
    const enqueued = clock();
    const t1 = clock();
    running = worker.run();
    await until(() => completed + failed >= levels.length, 120_000, 'bullmq priorities');
    const drained = clock();
    if (failed > 0) throw new Error(`${failed} jobs failed`);
    return {
      enqueue: levels.length / ((enqueued - t0) / 1000),
      drain: levels.length / ((drained - t1) / 1000),
      inverted: withPriorities ? inversions(levels, starts) : NaN,
    };
  } finally {
    await worker.close();
    await running;
    await queue.close();
    await store.cleanup();
  }
}

export async function runPriorities(settings: Settings): Promise<string> {
  const count = settings.quick ? 5000 : 20_000;
  const levels = draws(count);
  settings.log(`priorities: ${count} tasks, ${settings.rounds} round(s)`);
  const results = await interleave<Variant, Measure>(settings, VARIANTS, (variant) => {
    const withPriorities = variant.endsWith('priorities');
    return (variant.startsWith('errand') ? errandTrial(levels, withPriorities) : bullmqTrial(levels, withPriorities)) as Promise<
      Record<Measure, number>
    >;
  });
  const row = (system: 'errand-redis' | 'bullmq'): string[] => {
    const p = `${system}, priorities` as Variant;
    const n = `${system}, none` as Variant;
    return [
      system,
      fmt(med(results, p, 'enqueue')),
      fmt(med(results, n, 'enqueue')),
      fmt(med(results, p, 'drain')),
      fmt(med(results, n, 'drain')),
      `${fmt(paired(results, p, n, 'drain') * 100)} %`,
      `${fmt(maxOf(results, p, 'inverted') * 100, 2)} %`,
    ];
  };
  const every = VARIANTS.map((v) => [v, all(results, v, 'drain'), all(results, v, 'enqueue')]);
  const versus = (measure: Measure, kind: 'priorities' | 'none'): string =>
    `${fmt(paired(results, `errand-redis, ${kind}`, `bullmq, ${kind}`, measure), 2)}×`;
  return [
    `## 1. Priorities: ${fmt(count)} tasks, 10 levels, one worker at concurrency ${CONCURRENCY} (Redis)`,
    '',
    `Tasks/s, median of ${settings.rounds} interleaved round(s). "Drain" is timed from the worker's start (queue pre-filled, connections open) to the last success recorded; "enqueue" is ${fmt(count)} tasks in batches of 1,000 (errand \`task.applyAsyncMany\`, BullMQ \`queue.addBulk\`). Order inversions: the fraction of tasks that started while a task of a higher level was still waiting (worst round).`,
    '',
    table(
      [
        'system',
        'enqueue, priorities',
        'enqueue, none',
        'drain, priorities',
        'drain, none',
        'drain with priorities / without',
        'order inversions',
      ],
      [row('errand-redis'), row('bullmq')],
    ),
    '',
    `errand-redis ÷ BullMQ, the median of the per-round ratios: drain ${versus('drain', 'priorities')} with priorities, ${versus('drain', 'none')} without; enqueue ${versus('enqueue', 'priorities')} with priorities, ${versus('enqueue', 'none')} without. "Drain with priorities / without" is also a median of per-round ratios.`,
    '',
    'Every round (tasks/s):',
    '',
    table(['variant', 'drain', 'enqueue'], every),
  ].join('\n');
}
