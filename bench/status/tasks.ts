import type { Errand } from '../../src/core/errand.js';
import type { Task } from '../../src/core/task.js';
import { clock } from '../clock.js';

export const SLEEP_TASK = 'bench.status.sleep';
export const GATED_TASK = 'bench.status.gated';

export interface BenchTasks {
  /** Sleeps `ms`, then returns the wall clock (ms, sub-ms resolution) at its end: the task's finish time. */
  sleep: Task<[ms: number], number>;
  /** Waits until the bench releases it (IPC to the worker child), then returns the clock at its end. */
  gated: Task<[], number>;
}

/**
 * Defines the bench tasks on an app. The worker child passes `gate` (how a
 * gated task waits for its release); the bench process only enqueues, so it
 * passes nothing and its handlers never run.
 */
export function defineBenchTasks(app: Errand, gate?: (taskId: string) => Promise<void>): BenchTasks {
  const sleep = app.task(SLEEP_TASK, async (_ctx, ms: number): Promise<number> => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return clock();
  });
  const gated = app.task(GATED_TASK, async (ctx): Promise<number> => {
    if (!gate) throw new Error('gated tasks run in the worker child only');
    await gate(ctx.id);
    return clock();
  });
  return { sleep, gated };
}
