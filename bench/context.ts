import type { ChildPool } from './children.js';
import type { RedisAdmin } from './redis-admin.js';
import type { BenchSystem } from './systems/types.js';

export interface Settings {
  /** Tasks per throughput phase. */
  tasks: number;
  /** Tasks in the latency workload, and the gap between two sends (ms). */
  latencyTasks: number;
  latencyGapMs: number;
  /** Tasks in the commands workload. */
  commandTasks: number;
  /** Bulk workload: tasks per system and round, tasks per bulk call, interleaved rounds. */
  bulkTasks: number;
  bulkBatch: number;
  bulkRounds: number;
  runs: number;
}

/** What every workload gets. */
export interface BenchContext {
  settings: Settings;
  admin: RedisAdmin;
  pool: ChildPool;
  log: (line: string) => void;
}

/** Empties a system's storage before a phase. */
export async function resetSystem(ctx: BenchContext, system: BenchSystem): Promise<void> {
  if (system.usesRedis) await ctx.admin.flush();
  await system.resetStorage();
}

/** Resolves when `check` is true, re-checked on `subscribe` notifications; rejects after `stallMs` without progress. */
export function waitFor(
  progress: () => number,
  target: number,
  subscribe: (notify: () => void) => void,
  stallMs: number,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let last = progress();
    let lastChange = Date.now();
    const finish = (error?: Error): void => {
      clearInterval(timer);
      subscribe(() => {});
      if (error) reject(error);
      else resolve();
    };
    const timer = setInterval(() => {
      const value = progress();
      if (value !== last) {
        last = value;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > stallMs) {
        finish(new Error(`${what}: stalled at ${value}/${target} for ${stallMs} ms`));
      }
    }, 250);
    subscribe(() => {
      if (progress() >= target) finish();
    });
    if (progress() >= target) finish();
  });
}
