import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendPool, claimRequest, fileAtVersion, newTask, raw } from './helpers.js';

const pool = new BackendPool();
afterEach(() => pool.cleanup());

describe('sqlite backend: debounce (schema version 6)', () => {
  it('upgrades a version-5 file in place: its tasks stay and run, and debounce folds enqueues', async () => {
    const kept = randomUUID();
    const filename = fileAtVersion(pool, 5, (db) => {
      db.prepare(
        `INSERT INTO tasks (id, name, queue, state, version, payload, enqueued_at, run_at) VALUES (?, 'test.task', 'q', 'PENDING', 1, '[1]', 1, 1)`,
      ).run(kept);
    });
    const b = pool.open({ filename });
    expect(raw(filename, (db) => db.pragma('user_version', { simple: true }))).toBe(6);
    const first = newTask({ debounce: { key: 'k', replace: true } });
    const outcomes = await b.enqueueMany([first, newTask({ debounce: { key: 'k', replace: true }, payload: '[9]' })]);
    expect(outcomes).toEqual([
      { id: first.id, created: true },
      { id: first.id, created: false },
    ]);
    const claimed = await b.claim(claimRequest());
    expect(claimed.map((c) => [c.id, c.payload])).toEqual([
      [kept, '[1]'],
      [first.id, '[9]'],
    ]);
  });

  it('the fold finds its task through the partial index', async () => {
    const filename = pool.newFile();
    pool.open({ filename });
    const plan = raw(filename, (db) =>
      db
        .prepare(
          `EXPLAIN QUERY PLAN UPDATE tasks SET version = version + 1 WHERE debounce_key = 'k' AND state = 'PENDING' AND started_at IS NULL`,
        )
        .all()
        .map((row) => (row as { detail: string }).detail)
        .join('; '),
    );
    expect(plan).toContain('tasks_debounce');
  });
});
