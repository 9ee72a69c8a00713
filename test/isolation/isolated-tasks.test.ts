import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createApp, TaskFailedError, type Errand } from '../../src/index.js';
import { processAlive } from '../support/child.js';
import { waitFor } from '../support/wait.js';

const HANDLERS = new URL('../fixtures/isolate/handlers.ts', import.meta.url);

const apps: Errand[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function setup(concurrency = 4) {
  const app = createApp({ broker: 'memory://', logger: false });
  apps.push(app);
  const worker = app.worker({ handleSignals: false, claimWaitMs: 50, concurrency });
  return { app, start: () => worker.start(), worker };
}

for (const mode of ['thread', 'process'] as const) {
  describe(`isolate: '${mode}'`, () => {
    it('runs the handler by module path, away from the worker, with its arguments and context', async () => {
      const { app, start } = await setup();
      const add = app.task<[number, number], { sum: number; attempt: number; pid: number }>('iso.add', HANDLERS, {
        isolate: mode,
        export: 'add',
      });
      await start();
      const result = await (await add.delay(2, 3)).get({ timeout: 20_000 });
      expect(result.sum).toBe(5);
      expect(result.attempt).toBe(1);
      if (mode === 'process') expect(result.pid).not.toBe(process.pid);
      else expect(result.pid).toBe(process.pid);
    }, 30_000);

    it('kills a handler that never yields at its time limit and retries it, while other tasks keep running', async () => {
      const { app, start } = await setup();
      const spinner = app.task('iso.spin', HANDLERS, {
        isolate: mode,
        export: 'spinOnce',
        timeout: 1500,
        retry: { max: 2, backoff: { base: 1, cap: 1 } },
      });
      const quick = app.task('iso.quick', (_ctx, n: number) => n);
      await start();
      const spinning = await spinner.delay();
      const started = Date.now();
      // the worker's own event loop stays free: in-process tasks finish while the handler spins
      for (let i = 0; i < 5; i++) {
        expect(await (await quick.delay(i)).get({ timeout: 1000 })).toBe(i);
      }
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await spinning.get({ timeout: 30_000 })).toBe('done on attempt 2');
      const info = (await spinning.info())!;
      expect(info).toMatchObject({ state: 'SUCCESS', attempts: 2, retries: 1 });
    }, 40_000);

    it('a handler that spins on every attempt ends FAILURE with a TimeoutError after its retries', async () => {
      const { app, start } = await setup();
      const spinner = app.task('iso.always', HANDLERS, {
        isolate: mode,
        export: 'spin',
        timeout: 600,
        retry: { max: 1, backoff: { base: 1, cap: 1 } },
      });
      await start();
      const r = await spinner.delay();
      const failure = await r.get({ timeout: 30_000 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TaskFailedError);
      expect((failure as TaskFailedError).error.type).toBe('TimeoutError');
      expect((await r.info())!.attempts).toBe(2);
    }, 40_000);

    it('the soft limit aborts the handler’s signal first; errors keep their class name; progress reaches the task', async () => {
      const { app, start } = await setup();
      const polite = app.task('iso.polite', HANDLERS, { isolate: mode, export: 'polite', softTimeout: 300, timeout: 10_000 });
      const fails = app.task('iso.fails', HANDLERS, { isolate: mode, export: 'fails' });
      const steps = app.task<[number], number>('iso.steps', HANDLERS, { isolate: mode, export: 'steps' });
      await start();
      expect(await (await polite.delay()).get({ timeout: 20_000 })).toBe('stopped: TimeoutError');
      const failure = await (await fails.delay()).get({ timeout: 20_000 }).catch((e: unknown) => e);
      expect((failure as TaskFailedError).error).toEqual({ type: 'QuotaError', message: 'over quota' });
      const r = await steps.delay(3);
      const seen: number[] = [];
      for await (const info of app.watch(r.id)) if (info.progress) seen.push(info.progress.current);
      expect((await r.info())!.result).toBe(3);
      expect(seen.at(-1)).toBe(3);
    }, 40_000);

    it('a handler that exits its process or thread fails the attempt, and the next attempt gets a fresh runner', async () => {
      const { app, start } = await setup();
      const exits = app.task('iso.exits', HANDLERS, { isolate: mode, export: 'exits' });
      const add = app.task<[number, number], { sum: number }>('iso.add2', HANDLERS, { isolate: mode, export: 'add' });
      const missing = app.task('iso.missing', HANDLERS, { isolate: mode, export: 'notAFunction' });
      await start();
      const failure = await (await exits.delay()).get({ timeout: 20_000 }).catch((e: unknown) => e);
      expect((failure as TaskFailedError).error.message).toMatch(/died: the (thread|process) exited with code 3/);
      expect((await (await add.delay(1, 1)).get({ timeout: 20_000 })).sum).toBe(2);
      const broken = await (await missing.delay()).get({ timeout: 20_000 }).catch((e: unknown) => e);
      expect((broken as TaskFailedError).error.message).toMatch(/exports no function named notAFunction/);
    }, 40_000);

    it('revoking a running isolated task kills its runner', async () => {
      const { app, start } = await setup();
      const spinner = app.task('iso.revoked', HANDLERS, { isolate: mode, export: 'spinReporting' });
      await start();
      const r = await spinner.delay();
      let pid = 0;
      for await (const info of app.watch(r.id)) {
        if (info.progress) {
          pid = info.progress.current;
          break;
        }
      }
      await r.revoke();
      for await (const info of app.watch(r.id)) if (info.state === 'REVOKED') break;
      if (mode === 'process') {
        expect(pid).not.toBe(process.pid);
        await waitFor(() => !processAlive(pid));
      } else {
        // the spinning thread is gone when this process stops burning a core
        await waitFor(async () => {
          const before = process.cpuUsage();
          await new Promise((resolve) => setTimeout(resolve, 400));
          const used = process.cpuUsage(before);
          return (used.user + used.system) / 1000 < 200;
        });
      }
    }, 30_000);
  });
}

it('refuses an isolated task without a module, a function with isolate, or a soft limit past the hard one', () => {
  const app = createApp({ broker: 'memory://', logger: false });
  apps.push(app);
  expect(() => app.task('a', (() => 1) as never, { isolate: 'thread' })).toThrow(ConfigError);
  expect(() => app.task('b', '' as never, { isolate: 'thread' })).toThrow(/module/);
  expect(() => app.task('c', HANDLERS, { isolate: 'thread', softTimeout: 500, timeout: 400 })).toThrow(/softTimeout/);
  expect(() => app.task('d', HANDLERS, { isolate: 'fiber' as never })).toThrow(/isolate must be/);
  expect(() => app.task('e', () => 1, { softTimeout: 5 })).toThrow(/need isolate/);
});
