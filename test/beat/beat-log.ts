import type { Logger } from '../../src/index.js';

/** One 'beat fired' debug line of a beat loop. */
export interface Fired {
  schedule: string;
  tick: number;
  taskId: string;
  created: boolean;
  /** How late the timer fired: fire time − tick time. */
  lateMs: number;
  /** How long the enqueue took. */
  enqueueMs: number;
}

/** A logger that keeps the loop's 'beat fired' lines, errors and warnings. */
export function recordingLogger(): Logger & { fired: Fired[]; errors: string[]; warnings: string[] } {
  const fired: Fired[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  return {
    fired,
    errors,
    warnings,
    debug: (obj, msg) => {
      if (msg === 'beat fired') fired.push(obj as Fired);
    },
    info: () => {},
    warn: (_obj, msg) => warnings.push(msg ?? ''),
    error: (obj, msg) => errors.push(`${msg}: ${(obj as { err?: string }).err}`),
  };
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * Checks the beat invariants over the lines of every loop: each tick maps to
 * one task id and was created once; ticks run without a gap from first to
 * last. Returns the distinct ticks and task ids.
 */
export function checkTicks(
  fired: readonly Fired[],
  everyMs: number,
): { ticks: number[]; taskIds: Set<string>; problems: string[] } {
  const byTick = new Map<number, Fired[]>();
  for (const f of fired) byTick.set(f.tick, [...(byTick.get(f.tick) ?? []), f]);
  const problems: string[] = [];
  for (const [tick, fs] of byTick) {
    if (new Set(fs.map((f) => f.taskId)).size !== 1) problems.push(`tick ${tick}: several task ids`);
    if (fs.filter((f) => f.created).length !== 1)
      problems.push(`tick ${tick}: created ${fs.filter((f) => f.created).length} times`);
  }
  const ticks = [...byTick.keys()].sort((a, b) => a - b);
  for (let i = 1; i < ticks.length; i++) {
    if (ticks[i]! - ticks[i - 1]! !== everyMs) problems.push(`gap between ticks ${ticks[i - 1]} and ${ticks[i]}`);
  }
  return { ticks, taskIds: new Set(fired.map((f) => f.taskId)), problems };
}

/** The jitter line the tests print: fire time − tick time, p50 and p99. */
export function jitterLine(label: string, fired: readonly Fired[]): string {
  const late = fired.map((f) => f.lateMs);
  const stored = fired.map((f) => f.lateMs + f.enqueueMs);
  return (
    `[beat jitter] ${label}: n=${late.length} fire−tick p50=${percentile(late, 50)}ms p99=${percentile(late, 99)}ms` +
    ` max=${Math.max(...late)}ms; stored−tick p50=${percentile(stored, 50)}ms p99=${percentile(stored, 99)}ms`
  );
}
