import { clock, sleep, sleepUntil } from '../clock.js';
import { resetSystem, type BenchContext } from '../context.js';
import { summarize, type Summary } from '../stats.js';
import type { BenchSystem } from '../systems/types.js';

/** Tasks sent (one at a time) before the measured ones. */
export const WARM_UP = 20;

export interface LatencySample {
  run: number;
  system: string;
  tasks: number;
  /** enqueue call → handler start (the handler's clock reading, in the worker process). */
  toStart: Summary;
  /** enqueue call → the producer holds the result. */
  toResult: Summary;
  /** enqueue call → the call resolved (the task is stored). */
  enqueueCall: Summary;
  /** The measured gap between two sends (aimed at latencyGapMs). */
  meanGapMs: number;
  /** Worker clock − producer clock, estimated over IPC, and that estimate's round trip. */
  clockOffsetMs: number;
  clockRttMs: number;
  /** Every enqueue → start and enqueue → result, in send order (ms; for --json). */
  raw: { toStart: number[]; toResult: number[] };
}

/**
 * One idle worker process (concurrency 50); this process sends tasks one
 * at a time, `latencyGapMs` apart, and waits for each result through the
 * system's own notification path.
 */
export async function runLatency(ctx: BenchContext, system: BenchSystem, run: number): Promise<LatencySample> {
  const { latencyTasks: tasks, latencyGapMs: gap } = ctx.settings;
  await resetSystem(ctx, system);
  const [child] = await ctx.pool.take(system.name, 1);
  await child!.prepare(system.name, 50, 'stamp');
  await child!.go();
  const producer = await system.openProducer({ watchResults: true });
  try {
    const { offsetMs, rttMs } = await child!.clockOffset();
    // Warm-up, not counted: the first sends pay for JIT, script loading and lazy connections.
    for (let i = 0; i < WARM_UP; i++) {
      const { result } = await producer.send(-1 - i);
      await result;
      await sleep(gap);
    }
    await sleep(500); // let the worker settle into waiting for work

    const sentAt: number[] = [];
    const storedAt: number[] = [];
    const startedAt: number[] = [];
    const seenAt: number[] = [];
    const pending: Promise<void>[] = [];
    const t0 = clock() + 5;
    for (let i = 0; i < tasks; i++) {
      await sleepUntil(t0 + i * gap);
      sentAt[i] = clock();
      pending.push(
        producer.send(i).then(async ({ result }) => {
          storedAt[i] = clock();
          const value = await result;
          seenAt[i] = clock();
          startedAt[i] = Number(value);
        }),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${system.name} latency: results missing after 60 s`)), 60_000);
      }),
    ]).finally(() => clearTimeout(timer));

    const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]!);
    const round = (v: number): number => Math.round(v * 1000) / 1000;
    const toStart = startedAt.map((t, i) => round(t - sentAt[i]!));
    const toResult = seenAt.map((t, i) => round(t - sentAt[i]!));
    return {
      run,
      system: system.name,
      tasks,
      raw: { toStart, toResult },
      toStart: summarize(toStart),
      toResult: summarize(toResult),
      enqueueCall: summarize(storedAt.map((t, i) => t - sentAt[i]!)),
      meanGapMs: gaps.reduce((s, g) => s + g, 0) / gaps.length,
      clockOffsetMs: offsetMs,
      clockRttMs: rttMs,
    };
  } finally {
    await producer.close();
    await child!.stop();
  }
}
