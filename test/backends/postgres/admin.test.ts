import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/backends/postgres/migrations.js';
import { queries } from '../../../src/backends/postgres/queries.js';
import type { TaskInfo } from '../../../src/core/types.js';
import { describePostgres, testClient } from '../../support/postgres.js';
import { waitFor } from '../../support/wait.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';

describePostgres('postgres: admin', () => {
  const pool = new BackendPool();
  afterEach(() => pool.cleanup());

  it('upgrades a version-1 schema in place: its tasks and dead letters stay, and the admin tables work', async () => {
    const schema = pool.newSchema('v1');
    const kept = randomUUID();
    const lettered = randomUUID();
    const client = await testClient();
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(
        `CREATE TABLE "${schema}".schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      await client.query(MIGRATIONS[0]!.sql.replace(/\bS\./g, `"${schema}".`));
      await client.query(`INSERT INTO "${schema}".schema_version (version) VALUES (1)`);
      const insert = `INSERT INTO "${schema}".tasks (id, name, queue, state, version, payload, enqueued_at, run_at, trace)
        VALUES ($1, 'test.task', 'q', $2, 1, '[1]', $3, 1, 'tp')`;
      await client.query(insert, [kept, 'PENDING', 2]);
      await client.query(insert, [lettered, 'FAILURE', 1]);
      await client.query(
        `INSERT INTO "${schema}".dead_letters (id, name, queue, payload, error_json, at) VALUES ($1, 'test.task', 'q', '[1]', '{"type":"E","message":"m"}', 1)`,
        [lettered],
      );

      const b = pool.open({ schema });
      expect((await b.admin.listTasks({ limit: 10 })).tasks.map((t) => t.id)).toEqual([kept, lettered]);
      const versions = await client.query(`SELECT version FROM "${schema}".schema_version ORDER BY version`);
      expect(versions.rows.map((row: { version: number }) => row.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await b.admin.getTask(lettered)).toMatchObject({ deadLettered: true, payload: '[1]', trace: 'tp' });
      await b.admin.setQueuePaused('q', true);
      expect(await b.claim(claimRequest())).toEqual([]);
      await b.admin.setQueuePaused('q', false);
      expect(await b.admin.retryDeadLetters([lettered])).toEqual([lettered]);
      expect((await b.claim(claimRequest())).map((c) => c.id)).toEqual([kept, lettered]);
    } finally {
      await client.end();
    }
  });

  it('claim walks the ready index (priority, then due order) with a paused queue among those asked for', async () => {
    const schema = pool.newSchema('plan');
    const b = pool.open({ schema });
    await b.enqueueMany(Array.from({ length: 500 }, (_, i) => newTask({ queue: `q${i % 5}` })));
    await b.admin.setQueuePaused('q1', true);
    const client = await testClient();
    try {
      await client.query(`ANALYZE "${schema}".tasks`);
      // without a seq scan to fall back on, an unusable index would show as a disabled seq scan
      await client.query('SET enable_seqscan = off');
      const t = Date.now();
      const { rows } = await client.query(`EXPLAIN ${queries(`"${schema}"`).claim}`, [['q1', 'q2'], t, 10, 'w', t, t, '{}']);
      const plan = rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
      expect(plan).toContain('Index Scan using tasks_ready');
      expect(plan).not.toMatch(/Seq Scan on tasks\b/);
      // no sort of a queue's due tasks per claim: the index gives their order
      expect(plan).not.toMatch(/Sort\n.*\n.*Index Scan using tasks_ready/);
    } finally {
      await client.end();
    }
  });

  it('resuming a queue in another process wakes a claim waiting on it', async () => {
    const schema = pool.newSchema('wake');
    const a = pool.open({ schema });
    const other = pool.open({ schema });
    await a.admin.setQueuePaused('q', true);
    const task = newTask();
    await a.enqueue(task);
    const started = Date.now();
    // the fallback poll would take pollIntervalMs: the resume's notification is what wakes it
    const waiting = a.claim(claimRequest({ waitMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 100));
    await other.admin.setQueuePaused('q', false);
    expect((await waiting).map((c) => c.id)).toEqual([task.id]);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('purgeQueue revokes a queue bigger than one batch, with follow-ups and events another process hears', async () => {
    const schema = pool.newSchema('purge');
    const a = pool.open({ schema });
    const other = pool.open({ schema });
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
    const schema = pool.newSchema('prune');
    const b = pool.open({ schema });
    await b.admin.putRecords('k', [{ id: 'gone', json: '{}' }], 1);
    await b.admin.putRecords('k', [{ id: 'kept', json: '{}' }], 60_000);
    await b.admin.addCounts(1000, { n: 1 }, 1);
    await b.admin.addCounts(Date.now(), { n: 1 }, 60_000);
    await new Promise((r) => setTimeout(r, 5));
    await b.prune();
    const client = await testClient();
    try {
      expect((await client.query(`SELECT id FROM "${schema}".admin_records`)).rows).toEqual([{ id: 'kept' }]);
      expect((await client.query(`SELECT count(*)::int AS n FROM "${schema}".admin_counters`)).rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });
});
