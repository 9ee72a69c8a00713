import { clock } from '../clock.js';
import { resetSystem, type BenchContext } from '../context.js';
import type { BenchSystem } from '../systems/types.js';

export interface BulkSample {
  round: number;
  system: string;
  /** The call measured (delayMany, saveAll, addBulk). */
  method: string;
  tasks: number;
  batch: number;
  /** Tasks stored per second, from the first batch call to the last one's reply. */
  perSec: number;
  ms: number;
}

/** Batches sent before the clock starts (script load, JIT), not counted. */
export const BULK_WARM_UP_BATCHES = 5;

/**
 * The bulk-enqueue workload: each system stores `bulkTasks` tasks through
 * its one-call bulk API, `bulkBatch` at a time, one batch after the other
 * (each awaited), from the harness process; no worker runs. Rounds are
 * interleaved (A B C D A B C D …); storage is emptied before each system's
 * turn and the producer is connected and warmed up before the clock starts.
 */
export async function runBulk(ctx: BenchContext, systems: BenchSystem[]): Promise<BulkSample[]> {
  const { bulkTasks: tasks, bulkBatch: batch, bulkRounds: rounds } = ctx.settings;
  const samples: BulkSample[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const system of systems) {
      await resetSystem(ctx, system);
      const producer = await system.openProducer({ watchResults: false });
      try {
        for (let w = 0; w < BULK_WARM_UP_BATCHES; w++) await producer.batch.enqueue(-(w + 1) * batch, batch);
        const t0 = clock();
        for (let start = 0; start < tasks; start += batch) await producer.batch.enqueue(start, Math.min(batch, tasks - start));
        const ms = clock() - t0;
        const sample = {
          round,
          system: system.name,
          method: producer.batch.method,
          tasks,
          batch,
          perSec: tasks / (ms / 1000),
          ms,
        };
        samples.push(sample);
        ctx.log(
          `bulk round ${round} ${system.name.padEnd(13)} ${sample.method}: ${tasks} tasks in batches of ${batch}: ${Math.round(sample.perSec)}/s (${Math.round(ms)} ms)`,
        );
      } finally {
        await producer.close();
      }
    }
  }
  return samples;
}
