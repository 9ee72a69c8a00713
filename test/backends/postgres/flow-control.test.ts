import { afterEach, expect, it } from 'vitest';
import type { PostgresBackend } from '../../../src/backends/postgres/index.js';
import { queries } from '../../../src/backends/postgres/queries.js';
import { describePostgres, testClient } from '../../support/postgres.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';

/** The statements a backend sends through its command pool (pool.query: autocommit), by their first words. */
function countStatements(backend: PostgresBackend): string[] {
  const sent: string[] = [];
  const pool = (backend as unknown as { pool: { query: (...args: unknown[]) => unknown } }).pool;
  const query = pool.query.bind(pool);
  pool.query = (...args: unknown[]) => {
    const first = args[0] as string | { text: string };
    sent.push((typeof first === 'string' ? first : first.text).replace(/\s+/g, ' ').trim().slice(0, 40));
    return query(...args);
  };
  return sent;
}

describePostgres('postgres: flow control', () => {
  const pool = new BackendPool();
  afterEach(() => pool.cleanup());

  it('the one-statement claim probes tasks_fair once and walks tasks_ready, which holds plain tasks only', async () => {
    const schema = pool.newSchema('fplan');
    const b = pool.open({ schema });
    await b.enqueueMany(Array.from({ length: 500 }, (_, i) => newTask({ queue: `q${i % 5}` })));
    await b.enqueueMany(Array.from({ length: 50 }, () => newTask({ queue: 'q9', limits: [{ key: 'k', limit: 1 }] })));
    const client = await testClient();
    try {
      await client.query(`ANALYZE "${schema}".tasks`);
      await client.query('SET enable_seqscan = off');
      const t = Date.now();
      const { rows } = await client.query(`EXPLAIN ${queries(`"${schema}"`).fast.claim}`, [
        ['q1', 'q2'],
        t,
        10,
        'w',
        t,
        t,
        '{}',
        'o',
        t,
        schema,
        'c',
      ]);
      const plan = rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
      expect(plan).toContain('Index Scan using tasks_ready');
      expect(plan).toMatch(/Index Only Scan using tasks_fair|Index Scan using tasks_fair/);
      expect(plan).not.toMatch(/Seq Scan on tasks\b/);
      const index = await client.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'tasks_ready'`, [
        schema,
      ]);
      expect(index.rows[0].indexdef).toContain('fair_group IS NULL');
    } finally {
      await client.end();
    }
  });

  it('plain tasks stay one statement per claim and finish while another queue has flow-controlled tasks waiting', async () => {
    const schema = pool.newSchema();
    const b = pool.open({ schema });
    await b.enqueueMany([newTask({ queue: 'limited', limits: [{ key: 'k', limit: 1 }] })]);
    for (let i = 0; i < 3; i++) await b.enqueue(newTask());
    const sent = countStatements(b);
    for (let i = 0; i < 3; i++) {
      const [claimed] = await b.claim(claimRequest({ limit: 1 }));
      expect(await b.complete(claimed!, '1')).toBe(true);
    }
    expect(sent).toHaveLength(6);
    // the limited queue's claim goes through its own transaction (pool.connect, not pool.query)
    const [limited] = await b.claim(claimRequest({ queues: ['limited'] }));
    expect(limited).toBeDefined();
    expect(sent.filter((text) => text.startsWith('WITH fair AS'))).toHaveLength(4);
  });

  it('a group whose turn was lost is put back in the rotation by the next claim that finds nothing', async () => {
    const schema = pool.newSchema();
    const b = pool.open({ schema });
    const task = newTask({ group: 'g', limits: [{ key: 'k', limit: 1 }] });
    await b.enqueueMany([task]);
    const client = await testClient();
    try {
      await client.query(`DELETE FROM "${schema}".fair_turns`);
    } finally {
      await client.end();
    }
    expect((await b.claim(claimRequest())).map((c) => c.id)).toEqual([task.id]);
  });

  it('claims of many processes racing for a key never hold more than its limit', async () => {
    const schema = pool.newSchema();
    const backends = Array.from({ length: 4 }, () => pool.open({ schema }));
    await backends[0]!.enqueueMany(
      Array.from({ length: 40 }, (_, i) => newTask({ group: `g${i % 4}`, limits: [{ key: 'shared', limit: 3 }] })),
    );
    let running = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      backends.map(async (b) => {
        while (done < 40) {
          const claimed = await b.claim(claimRequest({ limit: 2, waitMs: 200 }));
          running += claimed.length;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          // counted as running until its finish has committed: never below the broker's count
          for (const task of claimed) {
            await b.complete(task, '1');
            running--;
            done++;
          }
        }
      }),
    );
    expect(done).toBe(40);
    expect(most).toBeLessThanOrEqual(3);
  });
});
