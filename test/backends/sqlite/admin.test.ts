import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PICK_SQL } from '../../../src/backends/sqlite/claim.js';
import { MIGRATIONS } from '../../../src/backends/sqlite/migrations/index.js';
import type { TaskInfo } from '../../../src/core/types.js';
import { waitFor } from '../../support/wait.js';
import { BackendPool, claimRequest, fileAtVersion, newTask, raw } from './helpers.js';

const pool = new BackendPool();
afterEach(() => pool.cleanup());

describe('sqlite backend: admin schema (version 4)', () => {
  it('upgrades a version-3 file in place: its tasks and dead letters stay, and the admin tables work', async () => {
    const kept = randomUUID();
    const lettered = randomUUID();
    const filename = fileAtVersion(pool, 3, (db) => {
      const insert = db.prepare(
        `INSERT INTO tasks (id, name, queue, state, version, payload, enqueued_at, run_at, trace) VALUES (?, 'test.task', 'q', ?, 1, '[1]', ?, 1, 'tp')`,
      );
      insert.run(kept, 'PENDING', 2);
      insert.run(lettered, 'FAILURE', 1);
      db.prepare(
        `INSERT INTO dead_letters (id, name, queue, payload, error_json, at) VALUES (?, 'test.task', 'q', '[1]', '{"type":"E","message":"m"}', 1)`,
      ).run(lettered);
    });

    const b = pool.open({ filename });
    expect(raw(filename, (db) => db.pragma('user_version', { simple: true }))).toBe(MIGRATIONS.at(-1)!.version);
    expect((await b.admin.listTasks({ limit: 10 })).tasks.map((t) => t.id)).toEqual([kept, lettered]);
    expect(await b.admin.getTask(lettered)).toMatchObject({ deadLettered: true, payload: '[1]', trace: 'tp' });
    await b.admin.setQueuePaused('q', true);
    expect(await b.claim(claimRequest())).toEqual([]);
    await b.admin.setQueuePaused('q', false);
    expect(await b.admin.retryDeadLetters([lettered])).toEqual([lettered]);
    expect((await b.claim(claimRequest())).map((c) => c.id)).toEqual([kept, lettered]);
  });

  it('claim of a paused queue still walks the claimable index, the paused check a constant lookup', () => {
    const filename = pool.newFile();
    pool.open({ filename });
    const plan = raw(filename, (db) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${PICK_SQL}`)
        .all({ queue: 'q', now: 1, limit: 10 })
        .map((row) => (row as { detail: string }).detail),
    );
    expect(plan.some((step) => step.includes('tasks USING INDEX tasks_ready'))).toBe(true);
    expect(plan.some((step) => step.includes('SCAN tasks'))).toBe(false);
    // priority, then due order, straight from the index: no sort per claim
    expect(plan.some((step) => step.includes('TEMP B-TREE'))).toBe(false);
    expect(plan.some((step) => step.includes('p USING PRIMARY KEY'))).toBe(true);
  });
});

describe('sqlite backend: admin across connections (as two processes would be)', () => {
  it('a claim waiting on a paused queue hands out nothing, and wakes when another connection resumes it', async () => {
    const filename = pool.newFile();
    const a = pool.open({ filename });
    const other = pool.open({ filename });
    await a.admin.setQueuePaused('q', true);
    const task = newTask();
    await a.enqueue(task);
    const started = Date.now();
    const waiting = a.claim(claimRequest({ waitMs: 5000 }));
    await new Promise((r) => setTimeout(r, 100));
    await other.admin.setQueuePaused('q', false);
    expect((await waiting).map((c) => c.id)).toEqual([task.id]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('purgeQueue revokes a queue bigger than one batch, with follow-ups and events the other connection hears', async () => {
    const filename = pool.newFile();
    const a = pool.open({ filename });
    const other = pool.open({ filename });
    const next = { id: randomUUID(), name: 'test.after', queue: 'after', payload: '[]' };
    const tasks = Array.from({ length: 1200 }, (_, i) => newTask(i === 0 ? { followUp: next } : {}));
    await a.enqueueMany(tasks);
    const heard: TaskInfo[] = [];
    await other.subscribeStatus(tasks[0]!.id, (info) => heard.push(info));
    expect(await a.admin.purgeQueue('q')).toBe(1200);
    expect(await a.countWaiting('q')).toBe(0);
    expect((await other.getInfo(next.id))?.state).toBe('PENDING');
    await waitFor(() => heard.some((info) => info.state === 'REVOKED'));
  });

  it('prune deletes expired records and dropped counters', async () => {
    const filename = pool.newFile();
    const b = pool.open({ filename });
    await b.admin.putRecords('k', [{ id: 'gone', json: '{}' }], 1);
    await b.admin.putRecords('k', [{ id: 'kept', json: '{}' }], 60_000);
    await b.admin.addCounts(1000, { n: 1 }, 1);
    await b.admin.addCounts(Date.now(), { n: 1 }, 60_000);
    await new Promise((r) => setTimeout(r, 5));
    await b.prune();
    expect(raw(filename, (db) => db.prepare('SELECT id FROM admin_records').pluck().all())).toEqual(['kept']);
    expect(raw(filename, (db) => db.prepare('SELECT COUNT(*) FROM admin_counters').pluck().get())).toBe(1);
  });
});
