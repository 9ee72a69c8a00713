import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer, pgSchema, text } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { createApp, type Errand } from '../../../src/index.js';
import { describePostgres, dropSchema, POSTGRES_URL, uniquePostgresUrl, uniqueSchema } from '../../support/postgres.js';

/** The app's own table, as Drizzle knows it. */
const ordersTable = (schema: string) =>
  pgSchema(schema).table('orders', { id: integer('id').primaryKey(), item: text('item').notNull() });
type Orders = ReturnType<typeof ordersTable>;

// The recipe of docs/brokers.md: Drizzle over a pool client you hold, the order row and its task in one transaction.
describePostgres('postgres: enqueue in a Drizzle transaction', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const url = uniquePostgresUrl('drizzle');
    const shop = uniqueSchema('shop');
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const app: Errand = createApp({ broker: url, logger: false });
    const orders = ordersTable(shop);
    await pool.query(`CREATE SCHEMA "${shop}"; CREATE TABLE "${shop}".orders (id integer PRIMARY KEY, item text NOT NULL)`);
    // the task reads the order its transaction wrote: it must be committed by the time a worker runs it
    const ship = app.task('shop.ship', async (_ctx, orderId: number) => {
      const { rows } = await pool.query(`SELECT item FROM "${shop}".orders WHERE id = $1`, [orderId]);
      return rows[0]?.item ?? null;
    });
    cleanups.push(async () => {
      await app.close();
      await pool.query(`DROP SCHEMA "${shop}" CASCADE`);
      await pool.end();
      await dropSchema(url);
    });
    return { app, pool, orders, ship };
  }

  /** The recipe: one pool client, BEGIN, Drizzle writes through it, the task is enqueued through it, COMMIT or ROLLBACK. */
  async function placeOrder(
    pool: pg.Pool,
    orders: Orders,
    id: number,
    enqueue: (client: pg.PoolClient) => Promise<string>,
    commit: boolean,
  ): Promise<string> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const db = drizzle(client);
      await db.insert(orders).values({ id, item: `item ${id}` });
      const taskId = await enqueue(client);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      return taskId;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  it('commit: the order and its task both exist, and the task sees the order', async () => {
    const { app, pool, orders, ship } = await setup();
    await app.worker({ handleSignals: false, claimWaitMs: 200 }).start();
    const taskId = await placeOrder(pool, orders, 1, async (client) => (await ship.applyAsync([1], { db: client })).id, true);
    expect(await app.result(taskId).get({ timeout: 10_000 })).toBe('item 1');
    expect(await drizzle(pool).select().from(orders).where(eq(orders.id, 1))).toEqual([{ id: 1, item: 'item 1' }]);
  });

  it('rollback: neither the order nor the task exists', async () => {
    const { app, pool, orders, ship } = await setup();
    const taskId = await placeOrder(pool, orders, 2, async (client) => (await ship.applyAsync([2], { db: client })).id, false);
    expect(await app.result(taskId).info()).toBeNull();
    expect(await drizzle(pool).select().from(orders)).toEqual([]);
    expect(await app.backend.countWaiting('default')).toBe(0);
  });
});
