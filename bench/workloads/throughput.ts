import { clock } from '../clock.js';
import { resetSystem, waitFor, type BenchContext } from '../context.js';
import type { BenchSystem } from '../systems/types.js';

export type ThroughputPhase = 'c1' | 'c50' | '2p';

export const PHASES: Record<ThroughputPhase, { processes: number; concurrency: number; label: string }> = {
  c1: { processes: 1, concurrency: 1, label: '1 process, concurrency 1' },
  c50: { processes: 1, concurrency: 50, label: '1 process, concurrency 50' },
  '2p': { processes: 2, concurrency: 50, label: '2 processes, concurrency 50 each' },
};

export interface ThroughputSample {
  run: number;
  system: string;
  phase: ThroughputPhase;
  tasks: number;
  /** Tasks stored per second by the bulk enqueue. */
  enqueuePerSec: number;
  /** Same through the alternative bulk path (errand: backend.enqueueMany), when measured. */
  altEnqueuePerSec?: number;
  /** Tasks completed per second, from the first worker's start to the last completion. */
  processPerSec: number;
  processMs: number;
  completed: number;
  /** Socket flushes to Redis by the workers per task (≈ round trips; 0 for SQLite). */
  flushesPerTask: number;
  /** Redis server CPU (user + sys, server-wide) from worker start to the end of processing, ms. */
  redisCpuMs: number;
  /** The processing window in each child's CLOCK_MONOTONIC µs (to cut --cpu-prof profiles). */
  windows: Array<{ pid: number; startUs: number; endUs: number }>;
}

/**
 * Fills the queue with `tasks` no-op tasks (timed: the enqueue rate), then
 * starts the phase's worker processes (children, already connected) and
 * times them from start to the last recorded completion.
 */
export async function runThroughput(
  ctx: BenchContext,
  system: BenchSystem,
  phase: ThroughputPhase,
  run: number,
  options: { measureAltBulk: boolean },
): Promise<ThroughputSample> {
  const tasks = ctx.settings.tasks;
  const { processes, concurrency } = PHASES[phase];

  let altEnqueuePerSec: number | undefined;
  if (options.measureAltBulk) {
    await resetSystem(ctx, system);
    const producer = await system.openProducer({ watchResults: false });
    if (producer.altBulk) {
      const t0 = clock();
      await producer.altBulk.enqueue(tasks);
      altEnqueuePerSec = tasks / ((clock() - t0) / 1000);
    }
    await producer.close();
  }

  await resetSystem(ctx, system);
  const producer = await system.openProducer({ watchResults: false });
  const t0 = clock();
  await producer.enqueueBulk(tasks);
  const enqueuePerSec = tasks / ((clock() - t0) / 1000);
  await producer.close();

  const children = await ctx.pool.take(system.name, processes);
  await Promise.all(children.map((c) => c.prepare(system.name, concurrency, 'noop')));
  const done = (): number => children.reduce((s, c) => s + c.done, 0);
  const finished = waitFor(
    done,
    tasks,
    (notify) => children.forEach((c) => (c.onProgress = notify)),
    30_000,
    `${system.name} ${phase}`,
  );
  const cpuBefore = system.usesRedis ? await ctx.admin.cpuMs() : 0;
  const goAts = await Promise.all(children.map((c) => c.go()));
  let stopped: Array<{ flushes: number }>;
  let cpuAfter = cpuBefore;
  try {
    await finished;
    if (system.usesRedis) cpuAfter = await ctx.admin.cpuMs();
  } finally {
    stopped = await Promise.all(children.map((c) => c.stop()));
  }
  const completed = done();
  const start = Math.min(...goAts);
  const end = Math.max(...children.map((c) => c.lastDoneAt));
  const processMs = end - start;
  return {
    run,
    system: system.name,
    phase,
    tasks,
    enqueuePerSec,
    altEnqueuePerSec,
    processPerSec: tasks / (processMs / 1000),
    processMs,
    completed,
    redisCpuMs: cpuAfter - cpuBefore,
    flushesPerTask: stopped.reduce((sum, s) => sum + s.flushes, 0) / tasks,
    windows: children.map((c, i) => ({
      pid: c.pid ?? 0,
      startUs: goAts[i]! * 1000 + c.monotonicOffsetUs,
      endUs: c.lastDoneAt * 1000 + c.monotonicOffsetUs,
    })),
  };
}
