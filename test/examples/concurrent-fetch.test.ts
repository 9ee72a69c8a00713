// examples/concurrent-fetch: concurrent fetches take about the slowest delay, sequential ones the sum.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AsyncResult, type Errand } from '../../src/index.js';
import { startSlowServer, type SlowServer } from '../../examples/concurrent-fetch/slow-server.js';
import { defineFetchTasks } from '../../examples/concurrent-fetch/tasks.js';
import { waitFor } from '../support/wait.js';

const DELAYS = [300, 400, 500];
const SUM = DELAYS.reduce((a, b) => a + b, 0);
const SLOWEST = Math.max(...DELAYS);

describe('examples/concurrent-fetch', () => {
  let server: SlowServer;
  let app: Errand;
  let tasks: ReturnType<typeof defineFetchTasks>;
  let urls: string[];

  beforeAll(async () => {
    server = await startSlowServer();
    urls = DELAYS.map((ms) => `${server.url}/slow?ms=${ms}`);
    app = createApp({ broker: 'memory://', logger: false });
    tasks = defineFetchTasks(app);
    await app.worker({ handleSignals: false, claimWaitMs: 200 }).start();
  });

  afterAll(async () => {
    await app?.close();
    await server?.close();
  });

  /** The task's own duration, from the broker's record: claimed (startedAt) to finished (finishedAt). */
  async function duration(r: AsyncResult<unknown>): Promise<number> {
    const info = (await r.info())!;
    return info.finishedAt! - info.startedAt!;
  }

  it('Promise.all with ctx.signal: the task takes about as long as the slowest fetch, not the sum', async () => {
    const r = await tasks.fetchAll.delay(urls);
    const results = await r.get({ timeout: 10_000 });
    expect(results.map((f) => f.body)).toEqual(DELAYS.map((ms) => ({ ms })));
    const took = await duration(r);
    console.log(`concurrent: ${took} ms, ratio to the sum ${(took / SUM).toFixed(2)}`);
    expect(took).toBeGreaterThanOrEqual(SLOWEST);
    expect(took / SUM).toBeLessThan(0.75);
  });

  it('one fetch after another: the task takes at least the sum of the delays', async () => {
    const r = await tasks.fetchOneByOne.delay(urls);
    expect((await r.get({ timeout: 10_000 })).map((f) => f.status)).toEqual([200, 200, 200]);
    const took = await duration(r);
    console.log(`sequential: ${took} ms, ratio to the sum ${(took / SUM).toFixed(2)}`);
    expect(took).toBeGreaterThanOrEqual(SUM);
  });

  it('revoking the task aborts ctx.signal, which cancels the fetches still in flight', async () => {
    const r = await tasks.fetchAll.delay([5000, 5000].map((ms) => `${server.url}/slow?ms=${ms}`));
    await waitFor(() => server.pending() === 2, 5000, 'both requests at the server');
    await r.revoke();
    // Without the signal the requests would stay open for 5 s; with it they are dropped at once.
    await waitFor(() => server.pending() === 0, 1000, 'the requests to be cancelled');
    expect((await r.info())!.state).toBe('REVOKED');
  });
});
