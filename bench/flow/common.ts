/** What every flow workload shares: settings, errand apps with completion hooks, waiting with a deadline, tables. */
import { createApp, type ClaimedTask, type Errand } from '../../src/index.js';
import { median } from '../stats.js';

export interface Settings {
  quick: boolean;
  rounds: number;
  log(line: string): void;
  /** Trials that threw, for the report. */
  failures: string[];
}

/** One section of the report: a markdown title, text and tables. */
export type Section = string;

export function openErrand(url: string): Errand {
  return createApp({ broker: url, logger: false });
}

export interface Outcomes {
  completed: number;
  failed: number;
}

/**
 * Counts what the broker records: a task is done once backend.complete
 * resolved true (as bench/systems/errand.ts does); fail and deadLetter
 * count as failed. `onComplete` sees each success.
 */
export function watchOutcomes(app: Errand, onComplete?: (task: ClaimedTask) => void): Outcomes {
  const outcomes: Outcomes = { completed: 0, failed: 0 };
  const backend = app.backend;
  const complete = backend.complete.bind(backend);
  backend.complete = async (task, resultJson) => {
    const ok = await complete(task, resultJson);
    if (ok) {
      outcomes.completed++;
      onComplete?.(task);
    }
    return ok;
  };
  const fail = backend.fail.bind(backend);
  backend.fail = async (task, error) => {
    const ok = await fail(task, error);
    if (ok) outcomes.failed++;
    return ok;
  };
  const deadLetter = backend.deadLetter.bind(backend);
  backend.deadLetter = async (task, error) => {
    const ok = await deadLetter(task, error);
    if (ok) outcomes.failed++;
    return ok;
  };
  return outcomes;
}

export interface Calls {
  /** backend.claim calls that returned at least one task, and the tasks they returned. */
  claims: number;
  claimed: number;
  /** Time spent in those calls, ms. */
  claimMs: number;
  /** backend.getInfo calls (what a workflow advance reads). */
  getInfo: number;
}

/** Counts the broker calls a workload makes through the app's backend. */
export function watchCalls(app: Errand): Calls {
  const calls: Calls = { claims: 0, claimed: 0, claimMs: 0, getInfo: 0 };
  const backend = app.backend;
  const claim = backend.claim.bind(backend);
  backend.claim = async (request) => {
    const started = performance.now();
    const tasks = await claim(request);
    if (tasks.length > 0) {
      calls.claims++;
      calls.claimed += tasks.length;
      calls.claimMs += performance.now() - started;
    }
    return tasks;
  };
  const getInfo = backend.getInfo.bind(backend);
  backend.getInfo = (id) => {
    calls.getInfo++;
    return getInfo(id);
  };
  return calls;
}

/** Resolves once `done()` holds (checked every `everyMs`), or rejects after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs: number, what: string, everyMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what}: not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A deterministic generator (mulberry32), so that every system gets the same draws. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Runs each variant once per round, in the same order every round (A B C A B C …); values per variant and measure. */
export async function interleave<V extends string, M extends string>(
  settings: Settings,
  variants: readonly V[],
  trial: (variant: V, round: number) => Promise<Record<M, number>>,
): Promise<Map<V, Map<M, number[]>>> {
  const results = new Map<V, Map<M, number[]>>();
  for (let round = 1; round <= settings.rounds; round++) {
    for (const variant of variants) {
      let values: Record<M, number>;
      try {
        values = await trial(variant, round);
      } catch (error) {
        const message = `${variant}, round ${round}: ${error instanceof Error ? error.message : String(error)}`;
        settings.failures.push(message);
        settings.log(`  FAILED: ${message}`);
        continue;
      }
      settings.log(
        `  ${variant}, round ${round}: ${Object.entries(values)
          .map(([k, v]) => `${k}=${fmt(v as number, 2)}`)
          .join(' ')}`,
      );
      const byMeasure = results.get(variant) ?? new Map<M, number[]>();
      // one slot per round (NaN where a trial failed), so that rounds pair up across variants
      for (const [measure, value] of Object.entries(values) as Array<[M, number]>) {
        const slots = byMeasure.get(measure) ?? Array.from({ length: settings.rounds }, () => NaN);
        slots[round - 1] = value;
        byMeasure.set(measure, slots);
      }
      results.set(variant, byMeasure);
    }
  }
  return results;
}

export const med = <V, M>(results: Map<V, Map<M, number[]>>, variant: V, measure: M): number =>
  median(results.get(variant)?.get(measure) ?? []);

const finite = (values: readonly number[] | undefined): number[] => (values ?? []).filter((v) => Number.isFinite(v));

export const maxOf = <V, M>(results: Map<V, Map<M, number[]>>, variant: V, measure: M): number => {
  const values = finite(results.get(variant)?.get(measure));
  return values.length === 0 ? NaN : Math.max(...values);
};

export const sumOf = <V, M>(results: Map<V, Map<M, number[]>>, variant: V, measure: M): number => {
  const values = finite(results.get(variant)?.get(measure));
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0);
};

/** The median over rounds of f(a's value, b's value) in the same round (rounds where both ran). */
export function paired<V, M>(
  results: Map<V, Map<M, number[]>>,
  a: V,
  b: V,
  measure: M,
  f: (x: number, y: number) => number = (x, y) => x / y,
): number {
  const xs = results.get(a)?.get(measure) ?? [];
  const ys = results.get(b)?.get(measure) ?? [];
  return median(xs.slice(0, Math.min(xs.length, ys.length)).map((x, i) => f(x, ys[i]!)));
}

/** Every value of a measure, for the "all rounds" column. */
export const all = <V, M>(results: Map<V, Map<M, number[]>>, variant: V, measure: M, digits = 0): string =>
  (results.get(variant)?.get(measure) ?? []).map((v) => fmt(v, digits)).join(' / ') || 'n/a';

export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, rightFrom = 1): string {
  const align = header.map((_, i) => (i >= rightFrom ? '---:' : '---'));
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
