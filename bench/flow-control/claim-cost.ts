/**
 * What flow control costs the SQLite claim, on one file, claims in this
 * process (no workers, no handlers): µs per claimed task.
 * - plain: tasks without group or limits, as today's path ('probe off'
 *   skips the flow-active probe, which is all plain tasks pay), claims of 10;
 * - flow: every task with a group (100 groups) and a limit that never fills;
 * - saturated: per claim of 1, with 100,000 tasks of a full key waiting and 10 of another;
 * - groups: per claim of 1, 1,000 groups of 10 tasks each.
 * Rounds are interleaved so machine load falls on every variant; medians.
 *
 *   npx tsx bench/flow-control/claim-cost.ts [--tasks=20000] [--rounds=5]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBackend } from '../../src/backends/sqlite/index.js';
import type { NewTask } from '../../src/index.js';

const flag = (name: string, fallback: number): number => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
};
const TASKS = flag('tasks', 20_000);
const ROUNDS = flag('rounds', 5);

const task = (patch: Partial<NewTask> = {}): NewTask => {
  const at = Date.now();
  return { id: randomUUID(), name: 'bench', queue: 'q', payload: '[1]', enqueuedAt: at, runAt: at, ...patch };
};
const request = (limit: number) => ({ workerId: 'w', queues: ['q'], limit, leaseMs: 60_000, waitMs: 0 });

async function withBackend<T>(fn: (b: SqliteBackend) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'errand-flow-bench-'));
  const b = new SqliteBackend({ filename: join(dir, 'b.db'), resultTtlMs: 60_000, deadLetterLimit: 10 });
  try {
    return await fn(b);
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fill(b: SqliteBackend, tasks: NewTask[]): Promise<void> {
  for (let i = 0; i < tasks.length; i += 5000) await b.enqueueMany(tasks.slice(i, i + 5000));
}

/** µs per task claimed, claiming `limit` at a time until `count` are out. */
async function drain(b: SqliteBackend, limit: number, count: number): Promise<number> {
  let got = 0;
  const started = performance.now();
  while (got < count) {
    const n = (await b.claim(request(limit))).length;
    if (n === 0) throw new Error('ran dry');
    got += n;
  }
  return ((performance.now() - started) * 1000) / got;
}

const variants: Record<string, () => Promise<number>> = {
  'plain, probe off (today)': () =>
    withBackend(async (b) => {
      (b as unknown as { fairClaims: { active: () => boolean } }).fairClaims.active = () => false;
      await fill(
        b,
        Array.from({ length: TASKS }, () => task()),
      );
      return drain(b, 10, TASKS);
    }),
  'plain, probe on': () =>
    withBackend(async (b) => {
      await fill(
        b,
        Array.from({ length: TASKS }, () => task()),
      );
      return drain(b, 10, TASKS);
    }),
  'flow: 100 groups, limit never full, claims of 10': () =>
    withBackend(async (b) => {
      await fill(
        b,
        Array.from({ length: TASKS }, (_, i) => task({ group: `g${i % 100}`, limits: [{ key: `k${i % 100}`, limit: 1e6 }] })),
      );
      return drain(b, 10, TASKS);
    }),
  'saturated: 100,000 of a full key + 10 others, claims of 1': () =>
    withBackend(async (b) => {
      await fill(
        b,
        Array.from({ length: 100_000 }, () => task({ group: 'A', limits: [{ key: 'A', limit: 1 }] })),
      );
      await b.claim(request(1));
      await fill(
        b,
        Array.from({ length: 10 }, () => task({ group: 'B', limits: [{ key: 'B', limit: 100 }] })),
      );
      return drain(b, 1, 10);
    }),
  'groups: 1,000 groups of 10, claims of 1': () =>
    withBackend(async (b) => {
      await fill(
        b,
        Array.from({ length: 10_000 }, (_, i) => task({ group: `g${i % 1000}` })),
      );
      return drain(b, 1, 2000);
    }),
};

const results: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) (results[name] ??= []).push(await run());
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of Object.entries(results))
  console.log(`${name.padEnd(58)} ${median(xs).toFixed(1).padStart(8)} µs per task`);
