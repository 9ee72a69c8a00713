import { afterEach, expect, it } from 'vitest';
import { ConfigError, createApp, type Errand } from '../../../src/index.js';
import { describePostgres, dropSchema, testClient, uniquePostgresUrl } from '../../support/postgres.js';
import { delay } from '../../support/wait.js';

describePostgres('postgres: enqueue inside the caller’s transaction', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** An app whose fallback poll is too slow to matter: a pickup within a second comes from the NOTIFY. */
  async function setup() {
    const url = uniquePostgresUrl('tx');
    const poll = new URL(url);
    poll.searchParams.set('pollIntervalMs', '30000');
    const app: Errand = createApp({ broker: poll.toString(), logger: false });
    const client = await testClient();
    cleanups.push(async () => {
      await client.end();
      await app.close();
      await dropSchema(url);
    });
    const echo = app.task('tx.echo', (_ctx, value: string) => value);
    // the schema exists before the caller's transaction uses it
    await app.backend.countWaiting('default');
    return { app, client, echo };
  }

  it('says so in its capabilities', async () => {
    const { app } = await setup();
    expect(app.backend.capabilities.transactionalEnqueue).toBe(true);
  });

  it('rollback: the task never existed, and no worker runs it', async () => {
    const { app, client, echo } = await setup();
    const worker = app.worker({ handleSignals: false, claimWaitMs: 5000 });
    await worker.start();
    try {
      await client.query('BEGIN');
      const r = await echo.applyAsync(['gone'], { db: client });
      // inside the transaction it is there
      expect(
        (await client.query('SELECT count(*)::int AS n FROM ' + schemaOf(app) + '.tasks WHERE id = $1', [r.id])).rows[0].n,
      ).toBe(1);
      // outside it is not
      expect(await r.info()).toBeNull();
      await client.query('ROLLBACK');
      await delay(300);
      expect(await r.info()).toBeNull();
      expect(await app.backend.countWaiting('default')).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it('commit: visible at once, and an idle worker is woken within a second of the COMMIT', async () => {
    const { app, client, echo } = await setup();
    const worker = app.worker({ handleSignals: false, claimWaitMs: 20_000 });
    await worker.start();
    try {
      await delay(200); // the worker is waiting in its claim
      await client.query('BEGIN');
      const r = await echo.applyAsync(['kept'], { db: client });
      await delay(300);
      expect(await r.info()).toBeNull(); // not committed yet: nobody sees it, the worker does not run it
      const committed = Date.now();
      await client.query('COMMIT');
      expect(await r.get({ timeout: 5000 })).toBe('kept');
      const info = (await r.info())!;
      expect(info.startedAt! - committed).toBeLessThan(1000);
    } finally {
      await worker.stop();
    }
  });

  it('the caller’s other writes and the task commit or roll back together', async () => {
    const { client, echo } = await setup();
    await client.query('CREATE TEMP TABLE orders (id int)');
    await client.query('BEGIN');
    await client.query('INSERT INTO orders VALUES (1)');
    const r = await echo.applyAsync(['with-order'], { db: client });
    await client.query('COMMIT');
    expect((await client.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(1);
    expect((await r.info())?.state).toBe('PENDING');
  });

  it('a tagged task enqueued in the transaction is in its tag feed after the COMMIT, and a follow-up comes at its end', async () => {
    const { app, client, echo } = await setup();
    await client.query('BEGIN');
    const r = await echo.applyAsync(['tagged'], { db: client, tags: ['order:7'] });
    expect((await app.backend.readTagFeed('order:7', 0, 10)).entries).toEqual([]);
    await client.query('COMMIT');
    const page = await app.backend.readTagFeed('order:7', 0, 10);
    expect(page.entries.map((e) => [e.info.id, e.info.state])).toEqual([[r.id, 'PENDING']]);
    const worker = app.worker({ handleSignals: false, claimWaitMs: 1000 });
    await worker.start();
    try {
      expect(await r.get({ timeout: 5000 })).toBe('tagged');
    } finally {
      await worker.stop();
    }
  });

  it('refuses a db that is not a client', async () => {
    const { echo } = await setup();
    await expect(echo.applyAsync(['x'], { db: {} })).rejects.toBeInstanceOf(ConfigError);
  });
});

function schemaOf(app: Errand): string {
  return `"${(app.backend as unknown as { schema: string }).schema}"`;
}
