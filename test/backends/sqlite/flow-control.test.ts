import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FairClaimQueries, JOIN_SQL } from '../../../src/backends/sqlite/fair-claim.js';
import { startChild, stopChild, type Child } from '../../support/child.js';
import { waitFor } from '../../support/wait.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';

const pool = new BackendPool();
afterEach(() => pool.cleanup());

/** Every statement the flow-controlled claim prepares, as EXPLAIN QUERY PLAN details. */
function plans(filename: string): string[][] {
  const db = new Database(filename);
  const out: string[][] = [];
  const prepare = db.prepare.bind(db);
  const values: Record<string, unknown> = { queue: 'q', priority: 0, group: 'g', below: 5, seq: 1 };
  // capture each statement's plan as FairClaimQueries prepares it
  (db as { prepare: unknown }).prepare = (sql: string) => {
    const named = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!))];
    const args = named.length > 0 ? [Object.fromEntries(named.map((n) => [n, values[n] ?? 1]))] : ['k'];
    out.push(
      prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...args)
        .map((row) => (row as { detail: string }).detail),
    );
    return prepare(sql);
  };
  new FairClaimQueries(db);
  db.prepare(JOIN_SQL);
  db.close();
  return out;
}

describe('sqlite backend: flow control', () => {
  it('every statement of the flow-controlled claim seeks an index: no table scan, no sort', () => {
    const filename = pool.newFile();
    pool.open({ filename });
    const all = plans(filename);
    expect(all.length).toBeGreaterThan(5);
    for (const plan of all) {
      // json_each walks one row's own JSON (the tags check of every claim)
      expect(plan.some((step) => step.startsWith('SCAN') && !/json_each|CONSTANT ROW/.test(step))).toBe(false);
      expect(plan.some((step) => step.includes('TEMP B-TREE'))).toBe(false);
    }
  });

  it('a claim passes over 20,000 waiting tasks of a saturated key to the other key’s tasks', async () => {
    const b = pool.open();
    const saturated = Array.from({ length: 20_000 }, () => newTask({ limits: [{ key: 'A', limit: 1 }], group: 'A' }));
    for (let i = 0; i < saturated.length; i += 5000) await b.enqueueMany(saturated.slice(i, i + 5000));
    expect(await b.claim(claimRequest({ limit: 1 }))).toHaveLength(1);
    const others = Array.from({ length: 10 }, () => newTask({ limits: [{ key: 'B', limit: 20 }], group: 'B' }));
    await b.enqueueMany(others);
    // each claim passes over the saturated key's 20,000 tasks (how fast: bench/flow-control/claim-cost.ts)
    for (let i = 0; i < 10; i++) {
      const [one] = await b.claim(claimRequest({ limit: 1 }));
      expect(others.map((t) => t.id)).toContain(one!.id);
    }
    expect(await b.claim(claimRequest({ limit: 1 }))).toHaveLength(0);
  }, 60_000);

  it('admin paths keep the counts: purgeQueue leaves running slots, a rerun task takes its slot again', async () => {
    const b = pool.open();
    const first = newTask({ limits: [{ key: 'k', limit: 1 }] });
    const second = newTask({ limits: [{ key: 'k', limit: 1 }] });
    await b.enqueueMany([first, second]);
    const [running] = await b.claim(claimRequest());
    expect(await b.admin.purgeQueue('q')).toBe(1);
    await b.fail(running!, { type: 'E', message: 'no' });
    expect(await b.admin.retryTasks([first.id, second.id])).toHaveLength(2);
    expect(await b.claim(claimRequest())).toHaveLength(1);
    expect(await b.claim(claimRequest())).toHaveLength(0);
  });

  it('processes racing for the slots of a key never run more than its limit', async () => {
    const filename = pool.newFile();
    const b = pool.open({ filename });
    const children: Child[] = [];
    try {
      children.push(
        ...(await Promise.all(
          Array.from({ length: 3 }, () => startChild('test/fixtures/sqlite/flow-race-child.ts', { RACE_FILE: filename })),
        )),
      );
      // every process is claiming already: they race from the first task on
      await b.enqueueMany(Array.from({ length: 300 }, () => newTask({ limits: [{ key: 'race', limit: 3 }], group: 'race' })));
      const lines = await waitFor(
        () => {
          const found = children.map((c) => /done max=(\d+) claimed=(\d+)/.exec(c.output()));
          return found.every((m) => m !== null) ? (found as RegExpExecArray[]) : undefined;
        },
        60_000,
        'every child to finish',
      );
      for (const [, max] of lines) expect(Number(max)).toBeLessThanOrEqual(3);
      expect(lines.reduce((sum, [, , claimed]) => sum + Number(claimed), 0)).toBe(300);
      // they did race (which one wins a freed slot is not promised: no fairness between claimers)
      expect(lines.filter(([, , claimed]) => Number(claimed) > 0).length).toBeGreaterThanOrEqual(2);
    } finally {
      await Promise.all(children.map((c) => stopChild(c)));
    }
  }, 90_000);
});
