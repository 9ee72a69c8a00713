import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { createApp, InvalidArgumentError, VERSION, type Errand, type Worker } from '../../src/index.js';
import { describeEachBroker } from '../support/brokers.js';
import { waitFor } from '../support/wait.js';

class Flaky extends Error {
  override name = 'Flaky';
}

it('VERSION is package.json’s version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(VERSION).toBe(pkg.version);
});

/** app.admin through createApp and real workers: what the CLI and dashboard see, on every broker. */
describeEachBroker('admin through the engine', (target) => {
  const opened: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of opened.splice(0).reverse()) await close();
  });

  async function setup() {
    const url = target.makeUrl('admin');
    const app = createApp({ broker: url, logger: false });
    opened.push(async () => {
      await app.close();
      await target.cleanup?.(url);
    });
    let failNext = 0;
    const tasks = {
      ok: app.task('adm.ok', (_ctx, n: number) => n * 2),
      flaky: app.task(
        'adm.flaky',
        () => {
          if (failNext-- > 0) throw new Flaky('not yet');
          return 'done';
        },
        { retry: { max: 3, backoff: { base: 10, cap: 10, jitter: 'none' } } },
      ),
      broken: app.task('adm.broken', () => {
        throw new Flaky('always');
      }),
      gated: app.task('adm.gated', async (ctx) => {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      }),
    };
    const worker = async (options: Parameters<Errand['worker']>[0] = {}): Promise<Worker> => {
      const w = app.worker({ handleSignals: false, claimWaitMs: 100, concurrency: 4, ...options });
      await w.start();
      opened.push(() => w.stop({ graceMs: 0 }));
      return w;
    };
    return { app, tasks, worker, failAfter: (n: number) => (failNext = n) };
  }

  it('a running worker is listed with its queues, concurrency and current tasks, and leaves the list when it stops', async () => {
    const { app, tasks, worker } = await setup();
    const w = await worker({ queues: ['default', 'mail'], report: { flushMs: 50, heartbeatMs: 100 } });
    const r = await tasks.gated.delay();
    await waitFor(async () => (await r.info())?.state === 'STARTED');
    await waitFor(async () => (await app.admin.workers())[0]?.runningCount === 1, 8000);
    const [info] = await app.admin.workers();
    expect(info).toMatchObject({
      id: w.id,
      pid: process.pid,
      queues: ['default', 'mail'],
      concurrency: 4,
      version: VERSION,
      beat: false,
    });
    expect(info!.running).toEqual([expect.objectContaining({ id: r.id, name: 'adm.gated', attempt: 1 })]);
    expect(Date.now() - info!.heartbeatAt).toBeLessThan(2000);
    expect((await app.admin.overview()).workers).toBe(1);
    await w.stop({ graceMs: 0 });
    expect(await app.admin.workers()).toEqual([]);
  });

  it('history counts successes, failures and retries per task name per minute', async () => {
    const { app, tasks, worker, failAfter } = await setup();
    await worker({ report: { flushMs: 50 } });
    failAfter(2);
    const runs = [tasks.ok.delay(1), tasks.ok.delay(2), tasks.ok.delay(3), tasks.flaky.delay(), tasks.broken.delay()];
    for (const r of await Promise.all(runs)) await r.get({ timeout: 8000 }).catch(() => {});
    await waitFor(async () => {
      const { throughput } = await app.admin.history();
      const sum = (task: string, field: 'succeeded' | 'failed' | 'retried') =>
        throughput.filter((p) => p.task === task).reduce((n, p) => n + p[field], 0);
      return (
        sum('adm.ok', 'succeeded') === 3 &&
        sum('adm.flaky', 'retried') === 2 &&
        sum('adm.flaky', 'succeeded') === 1 &&
        sum('adm.broken', 'failed') === 1
      );
    }, 8000);
    const { throughput, depth } = await app.admin.history({ since: Date.now() - 120_000 });
    expect(throughput.every((p) => p.at % 60_000 === 0)).toBe(true);
    expect(depth.some((d) => d.queue === 'default')).toBe(true);
  });

  it('task detail lists every attempt with its worker, times, result and error', async () => {
    const { app, tasks, worker, failAfter } = await setup();
    const w = await worker({ report: { flushMs: 50 } });
    failAfter(2);
    const r = await tasks.flaky.delay();
    expect(await r.get({ timeout: 8000 })).toBe('done');
    await waitFor(async () => (await app.admin.task(r.id))!.attempts.filter((a) => a.workerId === w.id).length === 3, 8000);
    const detail = (await app.admin.task(r.id))!;
    expect(detail.info.state).toBe('SUCCESS');
    expect(detail.args).toEqual([]);
    expect(detail.attempts.map((a) => [a.attempt, a.result, a.error?.type])).toEqual([
      [1, 'retry', 'Flaky'],
      [2, 'retry', 'Flaky'],
      [3, 'success', undefined],
    ]);
    for (const a of detail.attempts) expect(a.endedAt!).toBeGreaterThanOrEqual(a.startedAt!);
    // the worker had the real error: its stack is kept with the attempt
    expect(detail.attempts[0]!.error!.stack).toMatch(/^Flaky: not yet\n\s+at /);

    const first = await tasks.ok.delay(21);
    await first.get({ timeout: 5000 });
    const plain = (await app.admin.task(first.id))!;
    expect(plain.args).toEqual([21]);
    expect(plain.attempts).toEqual([expect.objectContaining({ attempt: 1, result: 'success' })]);
    expect(await app.admin.task('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('retry by filter re-runs every failed task of a name, revoke by ids stops pending ones, and both are in the action log', async () => {
    const { app, tasks, worker } = await setup();
    const w = await worker();
    const failed = await Promise.all([tasks.broken.delay(), tasks.broken.delay(), tasks.broken.delay()]);
    for (const r of failed) await r.get({ timeout: 5000 }).catch(() => {});
    await w.stop();
    const progress: number[] = [];
    expect(
      await app.admin.retry(
        { filter: { state: 'FAILURE', name: 'adm.broken' } },
        { actor: 'ada', onProgress: (n) => progress.push(n) },
      ),
    ).toBe(3);
    expect(progress.at(-1)).toBe(3);
    for (const r of failed) expect((await r.info())!.state).toBe('PENDING');
    const pending = await tasks.ok.delay(1);
    expect(await app.admin.revoke({ ids: [pending.id, failed[0]!.id] }, { actor: 'bob' })).toBe(2);
    expect((await pending.info())!.state).toBe('REVOKED');
    const log = await app.admin.actions(10);
    expect(log.map((a) => [a.actor, a.action, a.count])).toEqual([
      ['bob', 'revoke', 2],
      ['ada', 'retry', 3],
    ]);
    expect(log[1]!.target).toBe('filter state=FAILURE name=adm.broken');
  });

  it('pause stops a running worker taking a queue’s tasks until resume; purge revokes what waits', async () => {
    const { app, tasks, worker } = await setup();
    await worker();
    await app.admin.pause('default', { actor: 'ops' });
    const held = await tasks.ok.delay(5);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await held.info())!.state).toBe('PENDING');
    expect((await app.admin.overview()).queues.find((q) => q.queue === 'default')).toMatchObject({ paused: true, ready: 1 });
    await app.admin.resume('default');
    expect(await held.get({ timeout: 5000 })).toBe(10);
    await app.admin.pause('default');
    const doomed = await Promise.all([tasks.ok.delay(1), tasks.ok.delay(2)]);
    expect(await app.admin.purge('default', { actor: 'ops' })).toBe(2);
    for (const r of doomed) expect((await r.info())!.state).toBe('REVOKED');
    await expect(app.admin.purge('')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await app.admin.actions(1))[0]).toMatchObject({ action: 'purge', target: 'queue default', count: 2, actor: 'ops' });
  });

  it('dead letters: an unknown task name is retried once a worker knows it, or dropped', async () => {
    const { app, worker } = await setup();
    const w = await worker();
    const orphan = await app.sendTask('adm.later', [7]);
    const other = await app.sendTask('adm.never', []);
    await waitFor(async () => (await app.admin.deadLetters()).length === 2);
    await w.stop();
    expect((await app.admin.overview()).deadLetters).toBe(2);
    app.task('adm.later', (_ctx, n: number) => n + 1);
    await worker();
    expect(await app.admin.retryDeadLetters([orphan.id], { actor: 'ops' })).toBe(1);
    expect(await orphan.get({ timeout: 5000 })).toBe(8);
    expect(await app.admin.dropDeadLetters('all')).toBe(1);
    expect(await app.admin.deadLetters()).toEqual([]);
    expect((await other.info())!.state).toBe('FAILURE');
  });
});
