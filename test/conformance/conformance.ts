import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createApp,
  PayloadTooLargeError,
  SerializationError,
  TaskFailedError,
  TaskRevokedError,
  TimeoutError,
  type ClaimedTask,
  type CreateAppOptions,
  type Errand,
  type TaskInfo,
} from '../../src/index.js';
import { startChild, stopChild, type Child } from '../support/child.js';
import { delay, waitFor } from '../support/wait.js';
import { defineConformanceTasks, FlakyError } from './tasks.js';
import { claimRequest, newTask, type Env } from './seam.js';
import { describeFollowUps } from './follow-ups.js';
import { describeTagFeeds } from './tag-feeds.js';
import { describeAdmin } from './admin.js';
import { describePriorities } from './priorities.js';
import { describeFlowControl } from './flow-control.js';
import { describeRateLimits } from './rate-limits.js';
import { describeDebounce } from './debounce.js';

export interface ConformanceTarget {
  /** Broker name as printed in the suite title. */
  name: string;
  /** A broker URL for a fresh, isolated namespace. */
  makeUrl(): string | Promise<string>;
  /** Drops what a URL from makeUrl left behind. */
  cleanup?(url: string): Promise<void>;
}

/**
 * The semantics every broker shares. Each test gets its own namespace
 * (database file or key prefix) and closes every app and worker it made.
 */
export function describeConformance(target: ConformanceTarget): void {
  describe(`conformance: ${target.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function setup(options: Omit<CreateAppOptions, 'broker'> = {}): Promise<Env> {
      const url = await target.makeUrl();
      const log = join(tmpdir(), `errand-conf-${randomUUID()}.log`);
      const apps: Errand[] = [];
      const open = (opts: Omit<CreateAppOptions, 'broker'>): Errand => {
        // A broker that is not shared between processes is shared by handing over the instance.
        const shared = apps[0] && !apps[0].backend.capabilities.crossProcess ? apps[0].backend : url;
        const app = createApp({ logger: false, ...options, ...opts, broker: shared });
        apps.push(app);
        return app;
      };
      const app = open({});
      const tasks = defineConformanceTasks(app, log);
      cleanups.push(async () => {
        for (const a of apps.reverse()) await a.close();
        await target.cleanup?.(url);
        rmSync(log, { force: true });
      });
      return {
        url,
        log,
        app,
        tasks,
        async worker(workerOptions = {}) {
          const w = app.worker({ handleSignals: false, claimWaitMs: 200, ...workerOptions });
          await w.start();
          return w;
        },
        otherApp: (opts = {}) => open(opts),
        lines: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
      };
    }

    const isCrossProcess = async (): Promise<boolean> => {
      const probe = createApp({ broker: await target.makeUrl(), logger: false });
      const cross = probe.backend.capabilities.crossProcess;
      await probe.close();
      return cross;
    };

    const hasCapability = (name: 'flowControl' | 'rateLimits' | 'debounce') => async (): Promise<boolean> => {
      const url = await target.makeUrl();
      const probe = createApp({ broker: url, logger: false });
      const has = probe.backend.capabilities[name] === true;
      await probe.close();
      await target.cleanup?.(url);
      return has;
    };

    describe('enqueue and results', () => {
      it('delay returns an unguessable id at once, with the task PENDING and stored', async () => {
        const env = await setup();
        const r = await env.tasks.add.delay(2, 3);
        expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
        const info = await r.info();
        expect(info).toMatchObject({ id: r.id, name: 'conf.add', queue: 'default', state: 'PENDING', version: 1, attempts: 0 });
        // Another app on the same broker sees it: it is stored, not held in the producer.
        expect((await env.otherApp().result(r.id).info())?.state).toBe('PENDING');
        expect(env.lines()).toEqual([]);
      });

      it('a worker runs the task and the result is readable, with times and attempts', async () => {
        const env = await setup();
        await env.worker();
        const r = await env.tasks.add.delay(2, 3);
        expect(await r.get({ timeout: 5000 })).toBe(5);
        const info = (await r.info())!;
        expect(info.state).toBe('SUCCESS');
        expect(info.result).toBe(5);
        expect(info.attempts).toBe(1);
        expect(info.startedAt).toBeGreaterThanOrEqual(info.enqueuedAt);
        expect(info.finishedAt).toBeGreaterThanOrEqual(info.startedAt!);
        expect(info.version).toBeGreaterThanOrEqual(3);
      });

      it('info() is null for an unknown id', async () => {
        const env = await setup();
        expect(await env.app.result(randomUUID()).info()).toBeNull();
      });

      it('get() times out with TimeoutError when no worker runs', async () => {
        const env = await setup();
        const r = await env.tasks.add.delay(1, 1);
        await expect(r.get({ timeout: 150 })).rejects.toBeInstanceOf(TimeoutError);
      });

      it('runs each task once when nothing crashes (two workers, 200 tasks)', async () => {
        const env = await setup();
        await env.worker({ concurrency: 20 });
        await env.worker({ concurrency: 20 });
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => env.tasks.record.delay(`k${i}`)));
        await Promise.all(results.map((r) => r.get({ timeout: 20_000 })));
        const starts = env.lines().filter((l) => l.startsWith('start '));
        expect(starts).toHaveLength(200);
        expect(new Set(starts.map((l) => l.split(' ')[1])).size).toBe(200);
      });
    });

    describe('status events', () => {
      it('watch yields every state in version order and ends after the terminal one', async () => {
        const env = await setup();
        const r = await env.tasks.slow.delay('w', 100);
        const seen: TaskInfo[] = [];
        const done = (async () => {
          for await (const info of env.app.watch(r.id)) seen.push(info);
        })();
        await delay(50);
        await env.worker();
        await done;
        expect(seen.map((s) => s.state)).toEqual(['PENDING', 'STARTED', 'SUCCESS']);
        const versions = seen.map((s) => s.version);
        expect([...versions].sort((a, b) => a - b)).toEqual(versions);
        expect(new Set(versions).size).toBe(versions.length);
      });

      it('a subscriber arriving after the task finished gets the final state', async () => {
        const env = await setup();
        await env.worker();
        const r = await env.tasks.add.delay(20, 22);
        await r.get({ timeout: 5000 });
        const seen: TaskInfo[] = [];
        for await (const info of env.otherApp().watch(r.id)) seen.push(info);
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ state: 'SUCCESS', result: 42 });
      });

      it('a cold app: 200 watchers and 200 get() calls opened at once all hear the terminal state by push', async () => {
        const env = await setup();
        await env.worker({ concurrency: 50 });
        // A second app whose broker connection has never subscribed: the first
        // subscriptions race the connection's handshake.
        const cold = env.otherApp();
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => env.tasks.record.delay(`cold${i}`, 20)));
        // Opened a loop turn apart, so that some land while the connection is
        // still handshaking. No resync: a lost push would leave a watcher
        // waiting past the test's timeout.
        const watched: Array<Promise<string | undefined>> = [];
        const got: Array<Promise<{ key: string }>> = [];
        const coldGets = env.otherApp();
        for (const r of results) {
          watched.push(
            (async () => {
              let last: TaskInfo | undefined;
              for await (const info of cold.watch(r.id, { resyncMs: 600_000 })) last = info;
              return last?.state;
            })(),
          );
          got.push(coldGets.result<{ key: string }>(r.id).get({ timeout: 20_000 }));
          await new Promise((resolve) => setImmediate(resolve));
        }
        expect(await Promise.all(watched)).toEqual(results.map(() => 'SUCCESS'));
        expect((await Promise.all(got)).map((v) => v.key)).toEqual(results.map((_, i) => `cold${i}`));
      });

      it('progress is published as PROGRESS with its value; a slow consumer still gets the terminal state', async () => {
        const env = await setup();
        const steps = env.app.task('conf.steps', async (ctx, n: number) => {
          for (let i = 1; i <= n; i++) {
            await ctx.progress(i, n, { step: `s${i}` });
            await delay(5);
          }
          return 'done';
        });
        const r = await steps.delay(20);
        const seen: TaskInfo[] = [];
        const watching = (async () => {
          for await (const info of env.app.watch(r.id)) {
            seen.push(info);
            await delay(30); // slower than the task
          }
        })();
        await env.worker();
        await watching;
        const progress = seen.filter((s) => s.state === 'PROGRESS');
        expect(progress.length).toBeGreaterThan(0);
        expect(progress[0]!.progress).toMatchObject({ total: 20 });
        expect(seen.at(-1)).toMatchObject({ state: 'SUCCESS', result: 'done' });
        const versions = seen.map((s) => s.version);
        expect(new Set(versions).size).toBe(versions.length);
      });
    });

    describe('countdown and ETA', () => {
      it('never runs a countdown task early, and runs it once', async () => {
        const env = await setup();
        await env.worker();
        const r = await env.tasks.record.applyAsync(['late'], { countdown: 400 });
        const e = await env.tasks.record.applyAsync(['eta'], { eta: new Date(Date.now() + 400) });
        await delay(250);
        expect(env.lines()).toEqual([]);
        await Promise.all([r.get({ timeout: 5000 }), e.get({ timeout: 5000 })]);
        const info = (await r.info())!;
        expect(info.startedAt! - info.enqueuedAt).toBeGreaterThanOrEqual(400);
        await delay(300);
        expect(env.lines().filter((l) => l.startsWith('start '))).toHaveLength(2);
      });

      it('refuses countdown and eta together, and negative countdowns', async () => {
        const env = await setup();
        await expect(env.tasks.add.applyAsync([1, 2], { countdown: 1, eta: Date.now() })).rejects.toThrow(/countdown or eta/);
        await expect(env.tasks.add.applyAsync([1, 2], { countdown: -5 })).rejects.toThrow(/countdown/);
      });
    });

    describe('retries', () => {
      it('retries a matching error with exponential backoff, then succeeds', async () => {
        const env = await setup();
        const starts: number[] = [];
        const flaky = env.app.task(
          'conf.flaky',
          async (ctx) => {
            starts.push(Date.now());
            if (ctx.attempt < 3) throw new FlakyError(`attempt ${ctx.attempt}`);
            return ctx.attempt;
          },
          { retry: { on: [FlakyError], max: 5, backoff: { base: 100, jitter: 'none' } } },
        );
        const r = await flaky.delay();
        const states: string[] = [];
        const watching = (async () => {
          for await (const info of env.app.watch(r.id)) states.push(info.state);
        })();
        await env.worker();
        expect(await r.get({ timeout: 5000 })).toBe(3);
        await watching;
        expect(states).toContain('RETRY');
        expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(100);
        expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(200);
        expect((await r.info())!).toMatchObject({ attempts: 3, retries: 2 });
      });

      it('fails with the last error after max retries', async () => {
        const env = await setup();
        let calls = 0;
        const always = env.app.task(
          'conf.always',
          async () => {
            calls++;
            throw new FlakyError(`boom ${calls}`);
          },
          { retry: { on: (e) => e instanceof FlakyError, max: 2, backoff: { base: 10 } } },
        );
        await env.worker();
        const r = await always.delay();
        const error = await r.get({ timeout: 5000 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TaskFailedError);
        expect((error as TaskFailedError).error).toEqual({ type: 'FlakyError', message: 'boom 3' });
        expect(calls).toBe(3);
        expect((await r.info())!.state).toBe('FAILURE');
      });

      it('fails at once on an error that does not match', async () => {
        const env = await setup();
        let calls = 0;
        const wrong = env.app.task(
          'conf.wrong',
          async () => {
            calls++;
            throw new TypeError('not retryable');
          },
          { retry: { on: [FlakyError], max: 5 } },
        );
        await env.worker();
        const r = await wrong.delay();
        await expect(r.get({ timeout: 5000 })).rejects.toBeInstanceOf(TaskFailedError);
        expect(calls).toBe(1);
        expect((await r.info())!.error).toEqual({ type: 'TypeError', message: 'not retryable' });
      });

      it('ctx.retry() retries on demand with its countdown, within retry.max', async () => {
        const env = await setup();
        const starts: number[] = [];
        const manual = env.app.task(
          'conf.manual',
          async (ctx) => {
            starts.push(Date.now());
            if (ctx.retries < 1) ctx.retry({ countdown: 150, error: new FlakyError('later') });
            return 'ok';
          },
          { retry: { max: 1 } },
        );
        await env.worker();
        const r = await manual.delay();
        expect(await r.get({ timeout: 5000 })).toBe('ok');
        expect(starts).toHaveLength(2);
        expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(150);

        const exhausted = env.app.task('conf.exhausted', async (ctx) => ctx.retry({ countdown: 1 }), { retry: { max: 1 } });
        const e = await exhausted.delay();
        const error = (await e.get({ timeout: 5000 }).catch((x: unknown) => x)) as TaskFailedError;
        expect(error.error.type).toBe('MaxRetriesExceededError');
      });
    });

    describe('time limits', () => {
      it('fails an attempt at its timeout without waiting for a handler that ignores the signal', async () => {
        const env = await setup();
        let aborted: unknown;
        const stuck = env.app.task(
          'conf.stuck',
          (ctx) => {
            ctx.signal.addEventListener('abort', () => (aborted = ctx.signal.reason));
            return new Promise(() => {}); // never settles
          },
          { timeout: 200 },
        );
        await env.worker();
        const r = await stuck.delay();
        const error = (await r.get({ timeout: 5000 }).catch((x: unknown) => x)) as TaskFailedError;
        expect(error).toBeInstanceOf(TaskFailedError);
        expect(error.error.type).toBe('TimeoutError');
        expect(aborted).toBeInstanceOf(TimeoutError);
      });

      it('retries a timed-out attempt when retry.on includes TimeoutError', async () => {
        const env = await setup();
        const slowFirst = env.app.task(
          'conf.slowfirst',
          async (ctx) => {
            if (ctx.attempt === 1) await new Promise((r) => setTimeout(r, 1000));
            return ctx.attempt;
          },
          { timeout: 150, retry: { on: [TimeoutError], max: 1, backoff: { base: 10 } } },
        );
        await env.worker();
        const r = await slowFirst.delay();
        expect(await r.get({ timeout: 5000 })).toBe(2);
      });
    });

    describe('revoke', () => {
      it('a revoked pending task never runs', async () => {
        const env = await setup();
        const r = await env.tasks.record.applyAsync(['never'], { countdown: 200 });
        const info = await r.revoke();
        expect(info.state).toBe('REVOKED');
        await env.worker();
        await delay(500);
        expect(env.lines()).toEqual([]);
        await expect(r.get({ timeout: 1000 })).rejects.toBeInstanceOf(TaskRevokedError);
      });

      it('a running task gets its signal aborted and ends REVOKED', async () => {
        const env = await setup();
        await env.worker();
        const r = await env.tasks.slow.delay('victim', 10_000);
        await waitFor(() => env.lines().some((l) => l.startsWith('start victim')), 5000, 'task start');
        await env.otherApp().result(r.id).revoke();
        await waitFor(() => env.lines().some((l) => l.startsWith('aborted victim')), 5000, 'abort');
        expect(env.lines().find((l) => l.startsWith('aborted victim'))).toContain('TaskRevokedError');
        await delay(100);
        expect((await r.info())!.state).toBe('REVOKED');
        expect(env.lines().some((l) => l.startsWith('end victim'))).toBe(false);
      });

      it('revoking an unknown id throws; revoking a finished task changes nothing', async () => {
        const env = await setup();
        await expect(env.app.result(randomUUID()).revoke()).rejects.toThrow(/no task/);
        await env.worker();
        const r = await env.tasks.add.delay(1, 2);
        await r.get({ timeout: 5000 });
        expect((await r.revoke()).state).toBe('SUCCESS');
      });

      it('an expired task is not run', async () => {
        const env = await setup();
        const r = await env.tasks.record.applyAsync(['stale'], { expires: 50 });
        await delay(120);
        await env.worker();
        await expect(r.get({ timeout: 3000 })).rejects.toBeInstanceOf(TaskRevokedError);
        expect(env.lines()).toEqual([]);
      });
    });

    describe('idempotency', () => {
      it('a second applyAsync with the same key returns the first id and enqueues nothing', async () => {
        const env = await setup();
        const a = await env.tasks.record.applyAsync(['once'], { idempotencyKey: 'order-42' });
        const b = await env.otherApp().sendTask('conf.record', ['twice'], { idempotencyKey: 'order-42' });
        expect(b.id).toBe(a.id);
        await env.worker();
        await a.get({ timeout: 5000 });
        await delay(200);
        expect(env.lines().filter((l) => l.startsWith('start '))).toEqual([expect.stringContaining('start once')]);
        const c = await env.tasks.record.applyAsync(['other'], { idempotencyKey: 'order-43' });
        expect(c.id).not.toBe(a.id);
      });
    });

    describe('bulk enqueue', () => {
      /** Counts the backend calls the app makes (the seam), leaving them working. */
      const countCalls = (app: Errand): { enqueue: number; enqueueMany: number; sizes: number[] } => {
        const counts = { enqueue: 0, enqueueMany: 0, sizes: [] as number[] };
        const b = app.backend;
        const one = b.enqueue.bind(b);
        const many = b.enqueueMany.bind(b);
        b.enqueue = (task) => {
          counts.enqueue++;
          return one(task);
        };
        b.enqueueMany = (tasks) => {
          counts.enqueueMany++;
          counts.sizes.push(tasks.length);
          return many(tasks);
        };
        return counts;
      };
      const nothingQueued = async (env: Env, queues = ['default']): Promise<void> => {
        const claimed = await env.app.backend.claim({ workerId: 'probe', queues, limit: 100, leaseMs: 1000, waitMs: 0 });
        expect(claimed).toEqual([]);
      };

      it('delayMany stores every task in one enqueueMany call, results in order, and a worker runs them all', async () => {
        const env = await setup();
        const calls = countCalls(env.app);
        const argsList = Array.from({ length: 50 }, (_, i): [number, number] => [i, 1000]);
        const results = await env.tasks.add.delayMany(argsList);
        expect(calls).toEqual({ enqueue: 0, enqueueMany: 1, sizes: [50] });
        expect(new Set(results.map((r) => r.id)).size).toBe(50);
        expect((await env.otherApp().result(results[7]!.id).info())?.state).toBe('PENDING');
        expect(await env.tasks.add.delayMany([])).toEqual([]);
        expect(calls.enqueueMany).toBe(1);
        await env.worker({ concurrency: 10 });
        expect(await Promise.all(results.map((r) => r.get({ timeout: 10_000 })))).toEqual(argsList.map(([a, b]) => a + b));
      });

      it('applyAsyncMany: options per item; one key twice in a batch is one task; a known key returns its task', async () => {
        const env = await setup();
        const known = await env.tasks.record.applyAsync(['known'], { idempotencyKey: 'bulk-known' });
        const [a, b, c, d, e] = await env.tasks.record.applyAsyncMany([
          { args: ['a'], options: { idempotencyKey: 'bulk-1' } },
          { args: ['a'], options: { idempotencyKey: 'bulk-1' } },
          { args: ['known'], options: { idempotencyKey: 'bulk-known' } },
          { args: ['later'], options: { countdown: 300 } },
          { args: ['plain'] },
        ]);
        expect(b!.id).toBe(a!.id);
        expect(c!.id).toBe(known.id);
        expect(new Set([a!.id, c!.id, d!.id, e!.id]).size).toBe(4);
        expect((await d!.info())!.runAt - (await d!.info())!.enqueuedAt).toBe(300);
        await env.worker();
        await Promise.all([a, d, e, known].map((r) => r!.get({ timeout: 5000 })));
        await delay(150);
        const starts = env.lines().filter((l) => l.startsWith('start '));
        expect(starts.map((l) => l.split(' ')[1]).sort()).toEqual(['a', 'known', 'later', 'plain']);
      });

      it('a bad item refuses the whole batch, naming its index, and stores nothing', async () => {
        const env = await setup({ payloadLimitBytes: 1024 });
        const calls = countCalls(env.app);
        const anyTask = env.app.task('conf.bulkany', (_ctx, value: unknown) => value);
        const serialization = await anyTask.delayMany([[1], [2], [{ when: new Date() }]]).catch((x: unknown) => x);
        expect(serialization).toBeInstanceOf(SerializationError);
        expect((serialization as SerializationError).path).toBe('items[2].args[0].when');
        await expect(anyTask.delayMany([[1], ['x'.repeat(2000)]])).rejects.toThrow(/items\[1\]\.args is \d+ bytes/);
        const config = await anyTask
          .applyAsyncMany([{ args: [1] }, { args: [2], options: { countdown: -1 } }])
          .catch((x: unknown) => x);
        expect(config).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringMatching(/^items\[1\]: countdown/) });
        await expect(anyTask.applyAsyncMany([{ args: [1] }, { args: 'nope' as never }])).rejects.toThrow(/items\[1\]: args/);
        await expect(
          env.app.sendTaskMany([
            { name: 'conf.add', args: [1, 2] },
            { name: '', args: [] },
          ]),
        ).rejects.toThrow(/items\[1\]: a task needs a non-empty name/);
        await expect(anyTask.delayMany('nope' as never)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
        expect(calls.enqueueMany).toBe(0);
        await nothingQueued(env);
      });

      it('sendTaskMany mixes task names and queues in one call', async () => {
        const env = await setup();
        const calls = countCalls(env.app);
        const [x, y, z] = await env.app.sendTaskMany<unknown>([
          { name: 'conf.add', args: [1, 2] },
          { name: 'conf.record', args: ['mixed'] },
          { name: 'conf.add', args: [3, 4], options: { queue: 'other' } },
        ]);
        expect(calls.sizes).toEqual([3]);
        expect((await z!.info())!.queue).toBe('other');
        await env.worker({ queues: ['default', 'other'] });
        expect(await x!.get({ timeout: 5000 })).toBe(3);
        expect(await y!.get({ timeout: 5000 })).toMatchObject({ key: 'mixed' });
        expect(await z!.get({ timeout: 5000 })).toBe(7);
      });

      it('a batch larger than a Redis script chunk (2,500) keeps its order and dedupes across chunks', async () => {
        const env = await setup();
        const items = Array.from({ length: 2500 }, (_, i) => ({
          args: [i, 0] as [number, number],
          // item 1500 repeats item 10's key: a later chunk sees an earlier chunk's task
          options: i === 10 || i === 1500 ? { idempotencyKey: 'across' } : undefined,
        }));
        items[1500]!.args = [10, 0];
        const results = await env.tasks.add.applyAsyncMany(items);
        expect(results).toHaveLength(2500);
        expect(results[1500]!.id).toBe(results[10]!.id);
        expect(new Set(results.map((r) => r.id)).size).toBe(2499);
        await env.worker({ concurrency: 50 });
        const values = await Promise.all(results.map((r) => r.get({ timeout: 20_000 })));
        expect(values.every((v, i) => v === (i === 1500 ? 10 : i))).toBe(true);
      });
    });

    describe('idempotency conflicts', () => {
      const capture = () => {
        const warnings: Array<{ obj: object; msg?: string }> = [];
        const noop = (): void => {};
        return {
          warnings,
          logger: { debug: noop, info: noop, error: noop, warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) },
        };
      };

      it('the backend reports a key reused with another payload or name, atomically with the lookup', async () => {
        const b = (await setup()).app.backend;
        const first = newTask({ idempotencyKey: 'c-1' });
        expect(await b.enqueue(first)).toEqual({ id: first.id, created: true });
        expect(await b.enqueue(newTask({ idempotencyKey: 'c-1' }))).toEqual({ id: first.id, created: false });
        expect(await b.enqueue(newTask({ idempotencyKey: 'c-1', payload: '[9,9]' }))).toEqual({
          id: first.id,
          created: false,
          conflict: true,
        });
        expect(await b.enqueue(newTask({ idempotencyKey: 'c-1', name: 'conf.other' }))).toMatchObject({ conflict: true });
        // a different queue or due time is the same work
        expect(await b.enqueue(newTask({ idempotencyKey: 'c-1', queue: 'q2', runAt: Date.now() + 5000 }))).toEqual({
          id: first.id,
          created: false,
        });
        const batch = await b.enqueueMany([
          newTask({ idempotencyKey: 'c-2' }),
          newTask({ idempotencyKey: 'c-2' }),
          newTask({ idempotencyKey: 'c-2', payload: '[3,4]' }),
          newTask({ idempotencyKey: 'c-1', payload: '[3,4]' }),
        ]);
        expect(batch.map((o) => [o.created, o.conflict ?? false])).toEqual([
          [true, false],
          [false, false],
          [false, true],
          [false, true],
        ]);
        expect(batch[2]!.id).toBe(batch[0]!.id);
        expect(batch[3]!.id).toBe(first.id);
        expect((await b.getInfo(first.id))!.version).toBe(1);
      });

      it('the app warns by default and returns the known task', async () => {
        const { warnings, logger } = capture();
        const env = await setup({ logger });
        const a = await env.tasks.add.applyAsync([1, 2], { idempotencyKey: 'order-7' });
        const same = await env.tasks.add.applyAsync([1, 2], { idempotencyKey: 'order-7' });
        expect(same.id).toBe(a.id);
        expect(warnings).toEqual([]);
        const other = await env.tasks.add.applyAsync([5, 5], { idempotencyKey: 'order-7' });
        expect(other.id).toBe(a.id);
        expect(warnings).toEqual([
          {
            obj: { task: 'conf.add', idempotencyKey: 'order-7', taskId: a.id },
            msg: expect.stringMatching(/idempotency key reused with other arguments/),
          },
        ]);
        const [, batched] = await env.tasks.add.applyAsyncMany([
          { args: [1, 1], options: { idempotencyKey: 'order-8' } },
          { args: [2, 2], options: { idempotencyKey: 'order-8' } },
        ]);
        expect(warnings.at(-1)!.obj).toMatchObject({ idempotencyKey: 'order-8', index: 1, taskId: batched!.id });
      });

      it("onConflict: 'error' (app, task or call) throws IdempotencyConflictError; the call's option wins", async () => {
        const env = await setup({ idempotency: { onConflict: 'error' } });
        const a = await env.tasks.add.applyAsync([1, 2], { idempotencyKey: 'strict' });
        const refused = await env
          .otherApp()
          .sendTask('conf.add', [2, 1], { idempotencyKey: 'strict' })
          .catch((x: unknown) => x);
        expect(refused).toMatchObject({
          name: 'IdempotencyConflictError',
          code: 'ERR_IDEMPOTENCY_CONFLICT',
          idempotencyKey: 'strict',
          taskId: a.id,
        });
        expect(
          (await env.tasks.add.applyAsync([2, 1], { idempotencyKey: 'strict', idempotency: { onConflict: 'warn' } })).id,
        ).toBe(a.id);
        const lenient = env.otherApp({ idempotency: { onConflict: 'warn' } });
        const strictTask = lenient.task('conf.strict', (_ctx, n: number) => n, { idempotency: { onConflict: 'error' } });
        await strictTask.applyAsync([1], { idempotencyKey: 'strict-task' });
        await expect(strictTask.applyAsync([2], { idempotencyKey: 'strict-task' })).rejects.toMatchObject({
          code: 'ERR_IDEMPOTENCY_CONFLICT',
        });
        // in a batch: the others are stored, the error names the item
        const batch = await env.tasks.add
          .applyAsyncMany([{ args: [7, 7] }, { args: [9, 9], options: { idempotencyKey: 'strict' } }])
          .catch((x: unknown) => x);
        expect(batch).toMatchObject({
          code: 'ERR_IDEMPOTENCY_CONFLICT',
          index: 1,
          message: expect.stringMatching(/^items\[1\]:/),
        });
        await env.worker();
        await waitFor(async () => (await env.app.backend.getInfo(a.id))?.state === 'SUCCESS', 5000);
      });
    });

    describe('result expiry', () => {
      it('forgets finished tasks after resultTtlMs, so storage stays bounded', async () => {
        const env = await setup({ resultTtlMs: 300 });
        await env.worker();
        const r = await env.tasks.add.delay(1, 1);
        await r.get({ timeout: 5000 });
        expect(await r.info()).not.toBeNull();
        const keyed = await env.tasks.add.applyAsync([2, 2], { idempotencyKey: 'k' });
        await keyed.get({ timeout: 5000 });
        await delay(600);
        expect(await r.info()).toBeNull();
        // Forgotten everywhere before prune() runs: the key is free again, revoke finds nothing.
        const again = await env.tasks.add.applyAsync([1, 1], { idempotencyKey: 'k' });
        expect(again.id).not.toBe(keyed.id);
        await expect(r.revoke()).rejects.toThrow(/no task/);
        await env.app.backend.prune();
        expect(await r.info()).toBeNull();
        expect((await again.info())?.state).toBeDefined();
      });
    });

    describe('bad input', () => {
      it('refuses arguments that are not JSON data, storing nothing', async () => {
        const env = await setup();
        const anyTask = env.app.task('conf.any', (_ctx, value: unknown) => value);
        for (const bad of [() => 1, new Date(), 10n, Number.NaN, new Map(), undefined]) {
          await expect(anyTask.delay(bad)).rejects.toBeInstanceOf(SerializationError);
        }
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        await expect(anyTask.delay(cyclic)).rejects.toThrow(/circular/);
        await expect(anyTask.delay({ nested: [1, { when: new Date() }] })).rejects.toThrow(/args\[0\]\.nested\[1\]\.when/);
      });

      it('refuses arguments over the payload limit', async () => {
        const env = await setup({ payloadLimitBytes: 1024 });
        const anyTask = env.app.task('conf.big', (_ctx, value: string) => value.length);
        await expect(anyTask.delay('x'.repeat(2000))).rejects.toBeInstanceOf(PayloadTooLargeError);
      });

      it('dead-letters a task no worker knows and an undecodable message, and goes on', async () => {
        const env = await setup();
        await env.worker();
        const unknown = await env.app.sendTask('conf.nobody', [1]);
        await env.app.backend.enqueue({
          id: randomUUID(),
          name: 'conf.add',
          queue: 'default',
          payload: '{not json',
          enqueuedAt: Date.now(),
          runAt: Date.now(),
        });
        const ok = await env.tasks.add.delay(1, 2);
        expect(await ok.get({ timeout: 5000 })).toBe(3);
        const failed = (await unknown.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
        expect(failed.error.type).toBe('UnknownTaskError');
        const letters = await waitFor(async () => {
          const l = await env.app.deadLetters();
          return l.length === 2 ? l : undefined;
        });
        expect(letters.map((l) => l.error.type).sort()).toEqual(['DecodeError', 'UnknownTaskError']);
        expect(letters.find((l) => l.error.type === 'DecodeError')!.payload).toBe('{not json');
      });

      it('fails a task whose result is not JSON data', async () => {
        const env = await setup();
        const badResult = env.app.task('conf.badresult', () => new Map() as unknown as number);
        await env.worker();
        const r = await badResult.delay();
        const error = (await r.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
        expect(error.error.type).toBe('SerializationError');
      });

      it('dead-letters arguments nested too deep as a DecodeError, refuses to store or return such values, and goes on', async () => {
        const env = await setup();
        const echo = env.app.task('conf.echo', (_ctx, value: unknown) => value);
        const deepen = env.app.task('conf.deepen', (_ctx, levels: number) => {
          let value: unknown = 1;
          for (let i = 0; i < levels; i++) value = [value];
          return value;
        });
        await env.worker();
        const n = 200_000;
        const ids = [randomUUID(), randomUUID()];
        for (const [i, payload] of ['['.repeat(n) + ']'.repeat(n), `[${'{"a":'.repeat(n)}1${'}'.repeat(n)}]`].entries()) {
          const t = Date.now();
          await env.app.backend.enqueue({ id: ids[i]!, name: 'conf.echo', queue: 'default', payload, enqueuedAt: t, runAt: t });
        }
        const letters = await waitFor(async () => {
          const l = await env.app.deadLetters();
          return ids.every((id) => l.some((letter) => letter.id === id)) ? l : undefined;
        });
        for (const letter of letters) {
          expect(letter.error.type).toBe('DecodeError');
          expect(letter.error.message).toMatch(/nested deeper than \d+ levels/);
        }
        // encoding says so clearly, at delay() and for a result
        let deepValue: unknown = 1;
        for (let i = 0; i < n; i++) deepValue = [deepValue];
        await expect(echo.delay(deepValue)).rejects.toThrow(/nested deeper than \d+ levels/);
        const error = (await (await deepen.delay(n)).get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
        expect(error.error).toMatchObject({ type: 'SerializationError', message: expect.stringMatching(/nested deeper than/) });
        expect(await (await echo.delay([[['fine']]])).get({ timeout: 5000 })).toEqual([[['fine']]]);
      });
    });

    describe('leases and graceful stop', () => {
      it('a task whose worker stopped responding runs again when its lease expires', async () => {
        const env = await setup();
        const r = await env.tasks.record.delay('orphan');
        // A "worker" that claims and then dies without a word.
        const [claimed] = await env.app.backend.claim({
          workerId: 'dead',
          queues: ['default'],
          limit: 1,
          leaseMs: 300,
          waitMs: 0,
        });
        expect(claimed?.id).toBe(r.id);
        await env.worker({ rescueIntervalMs: 100 });
        expect(await r.get({ timeout: 5000 })).toMatchObject({ key: 'orphan' });
        expect((await r.info())!.attempts).toBe(2);
        // The dead worker's late report is refused.
        expect(await env.app.backend.complete(claimed!, '"late"')).toBe(false);
        expect((await r.info())!.result).toMatchObject({ key: 'orphan' });
      });

      it('a live worker renews its lease: a long task is not run twice', async () => {
        const env = await setup();
        await env.worker({ leaseMs: 200, rescueIntervalMs: 50 });
        await env.worker({ leaseMs: 200, rescueIntervalMs: 50 });
        const r = await env.tasks.record.delay('long', 1000);
        await r.get({ timeout: 5000 });
        expect(env.lines().filter((l) => l.startsWith('start long'))).toHaveLength(1);
      });

      it('stop() lets running tasks finish within the grace period', async () => {
        const env = await setup();
        const worker = await env.worker();
        const r = await env.tasks.slow.delay('graceful', 300);
        await waitFor(() => env.lines().some((l) => l.startsWith('start graceful')), 5000);
        await worker.stop({ graceMs: 5000 });
        expect((await r.info())!.state).toBe('SUCCESS');
        expect(worker.state).toBe('stopped');
      });

      it('stop() releases tasks that outlast the grace period back to the queue', async () => {
        const env = await setup();
        const first = await env.worker();
        const r = await env.tasks.slow.delay('released', 60_000);
        await waitFor(() => env.lines().some((l) => l.startsWith('start released')), 5000);
        await first.stop({ graceMs: 100 });
        const info = (await r.info())!;
        expect(info.state).toBe('PENDING');
        expect(info.attempts).toBe(0);
        const other = env.otherApp();
        defineConformanceTasks(other, env.log);
        const second = other.worker({ handleSignals: false, claimWaitMs: 200 });
        await second.start();
        await waitFor(() => env.lines().filter((l) => l.startsWith('start released')).length === 2, 5000, 'second start');
        expect(env.lines().filter((l) => l.startsWith('start released'))[1]).toContain('attempt=1');
        await second.stop({ graceMs: 0 });
      });
    });

    // The seam itself, driven directly: what every adapter does with a delivery.
    describe('the backend seam', () => {
      it('refuses stale deliveries: other worker, other attempt, finished, revoked', async () => {
        const b = (await setup()).app.backend;
        const [t1, t2] = [newTask(), newTask()];
        await b.enqueueMany([t1, t2]);
        const [c1, c2] = (await b.claim(claimRequest('w1'))) as [ClaimedTask, ClaimedTask];
        expect(await b.complete({ ...c1, workerId: 'other' }, '1')).toBe(false);
        expect(await b.complete({ ...c1, attempt: 2 }, '1')).toBe(false);
        expect(await b.recordProgress({ ...c1, workerId: 'other' }, { current: 1 })).toBe(false);
        expect(await b.fail({ ...c1, attempt: 7 }, { type: 'E', message: 'm' })).toBe(false);
        expect(await b.complete(c1, '1')).toBe(true);
        expect((await b.getInfo(c1.id))!.state).toBe('SUCCESS');
        expect(await b.complete(c1, '2')).toBe(false);
        expect(await b.release(c1)).toBe(false);
        expect(await b.retryLater(c1, { type: 'E', message: 'm' }, Date.now())).toBe(false);
        expect((await b.revoke(c2.id))!.state).toBe('REVOKED');
        expect(await b.complete(c2, '1')).toBe(false);
        expect(await b.deadLetter(c2, { type: 'E', message: 'm' })).toBe(false);
        expect(await b.extendLeases([c1, c2], 1000)).toEqual([c1.id, c2.id]);
      });

      it('an earlier delivery whose lease expired: its success counts once, its failure does not', async () => {
        const b = (await setup()).app.backend;
        const [t1, t2] = [newTask(), newTask()];
        await b.enqueueMany([t1, t2]);
        const first = await b.claim(claimRequest('w1', { leaseMs: 1 }));
        expect(first).toHaveLength(2);
        const [a1, b1] = first as [ClaimedTask, ClaimedTask];
        await delay(10);
        expect(await b.rescueExpired()).toBe(2);
        const again = await b.claim(claimRequest('w2'));
        const a2 = again.find((c) => c.id === a1.id)!;
        const b2 = again.find((c) => c.id === b1.id)!;
        expect(a2).toMatchObject({ attempt: 2, workerId: 'w2' });
        // Only a success counts from the earlier delivery; the live one decides failures.
        expect(await b.fail(a1, { type: 'E', message: 'stale failure' })).toBe(false);
        expect(await b.complete(a1, '"first"')).toBe(true);
        expect(await b.getInfo(a1.id)).toMatchObject({ state: 'SUCCESS', result: 'first', attempts: 2 });
        // First finisher wins: the live delivery is now stale, and learns it from its renewal.
        expect(await b.complete(a2, '"second"')).toBe(false);
        expect(await b.extendLeases([a2, b2], 30_000)).toEqual([a2.id]);
        expect((await b.getInfo(a1.id))!.result).toBe('first');
        // A forged delivery (a later attempt, or another worker on the live attempt) never counts.
        expect(await b.complete({ ...b2, attempt: 3 }, '"x"')).toBe(false);
        expect(await b.complete({ ...b2, workerId: 'w3' }, '"x"')).toBe(false);
        expect(await b.complete(b2, '"live"')).toBe(true);
        expect(await b.complete(b1, '"late"')).toBe(false);
        expect((await b.getInfo(b1.id))!.result).toBe('live');
        // A task that finished as a success is not handed out again.
        expect(await b.claim(claimRequest('w3'))).toEqual([]);
      });

      it('an earlier delivery succeeding while the task waits in the queue again: it is not run again', async () => {
        const b = (await setup()).app.backend;
        const t = newTask();
        await b.enqueue(t);
        const [c1] = await b.claim(claimRequest('w1', { leaseMs: 1 }));
        await delay(10);
        expect(await b.rescueExpired()).toBe(1);
        expect((await b.getInfo(t.id))!.state).toBe('PENDING');
        expect(await b.complete(c1!, '7')).toBe(true);
        expect(await b.getInfo(t.id)).toMatchObject({ state: 'SUCCESS', result: 7 });
        expect(await b.claim(claimRequest('w2'))).toEqual([]);
      });

      it('release puts a task back, due now, without counting the attempt', async () => {
        const b = (await setup()).app.backend;
        const t = newTask();
        await b.enqueue(t);
        const [c] = await b.claim(claimRequest());
        expect(await b.release(c!)).toBe(true);
        const info = await b.getInfo(c!.id);
        expect(info).toMatchObject({ state: 'PENDING', attempts: 0, version: 3 });
        expect(info!.runAt).toBeGreaterThanOrEqual(t.runAt);
        const [again] = await b.claim(claimRequest());
        expect(again).toMatchObject({ id: t.id, attempt: 1 });
      });

      it('retryLater keeps the task out of the ready queue until due, with the error and retries + 1', async () => {
        const b = (await setup()).app.backend;
        await b.enqueue(newTask());
        const [c] = await b.claim(claimRequest());
        const runAt = Date.now() + 200;
        expect(await b.retryLater(c!, { type: 'Flaky', message: 'again' }, runAt)).toBe(true);
        const info = await b.getInfo(c!.id);
        expect(info).toMatchObject({ state: 'RETRY', retries: 1, runAt, error: { type: 'Flaky', message: 'again' } });
        expect(await b.claim(claimRequest())).toEqual([]);
        const [again] = await b.claim(claimRequest('w1', { waitMs: 3000 }));
        expect(Date.now()).toBeGreaterThanOrEqual(runAt);
        expect(again).toMatchObject({ id: c!.id, attempt: 2, retries: 1 });
        expect(await b.claim(claimRequest())).toEqual([]);
      });

      it('keeps the trace context of a task and hands it back on every delivery and in its dead letter', async () => {
        const b = (await setup()).app.backend;
        const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 vendor=value';
        const traced = newTask({ trace });
        const plain = newTask();
        await b.enqueueMany([traced, plain]);
        const first = await b.claim(claimRequest('w1', { limit: 2 }));
        expect(first.find((c) => c.id === traced.id)!.trace).toBe(trace);
        expect(first.find((c) => c.id === plain.id)!.trace).toBeUndefined();
        const mine = first.find((c) => c.id === traced.id)!;
        expect(await b.retryLater(mine, { type: 'E', message: 'again' }, Date.now())).toBe(true);
        const [again] = await b.claim(claimRequest('w2', { limit: 1 }));
        expect(again).toMatchObject({ id: traced.id, attempt: 2, trace });
        expect(await b.deadLetter(again!, { type: 'DecodeError', message: 'x' })).toBe(true);
        const [letter] = await b.listDeadLetters(1);
        expect(letter).toMatchObject({ id: traced.id, trace });
      });

      it('countWaiting counts the PENDING and RETRY tasks of one queue, due or not', async () => {
        const b = (await setup()).app.backend;
        expect(await b.countWaiting('default')).toBe(0);
        const later = Date.now() + 60_000;
        await b.enqueueMany([newTask(), newTask(), newTask({ runAt: later }), newTask({ queue: 'other' })]);
        expect(await b.countWaiting('default')).toBe(3);
        expect(await b.countWaiting('other')).toBe(1);
        expect(await b.countWaiting('nowhere')).toBe(0);
        // Claimed tasks no longer wait; a retry waits again, even before it is due.
        const [c1, c2] = (await b.claim(claimRequest())) as [ClaimedTask, ClaimedTask];
        expect(await b.countWaiting('default')).toBe(1);
        expect(await b.retryLater(c1, { type: 'E', message: 'm' }, later)).toBe(true);
        expect(await b.countWaiting('default')).toBe(2);
        expect(await b.complete(c2, '1')).toBe(true);
        expect(await b.countWaiting('default')).toBe(2);
        // An idempotent duplicate stores nothing, so it adds nothing.
        await b.enqueue(newTask({ idempotencyKey: 'k' }));
        await b.enqueue(newTask({ idempotencyKey: 'k' }));
        expect(await b.countWaiting('default')).toBe(3);
      });
    });

    describeFollowUps(setup);
    describeTagFeeds(setup);
    describeAdmin(setup);
    describePriorities(setup);
    describeFlowControl(setup, hasCapability('flowControl'));
    describeRateLimits(setup, hasCapability('rateLimits'));
    describeDebounce(setup, hasCapability('debounce'));

    describe('pickup', () => {
      it('an idle worker is woken by an enqueue, not by its claim timeout', async () => {
        const env = await setup();
        await env.worker({ claimWaitMs: 10_000 });
        await delay(100); // let the worker settle into its wait
        const started = Date.now();
        const r = await env.otherApp().sendTask('conf.add', [1, 2]);
        await r.get({ timeout: 5000 });
        expect(Date.now() - started).toBeLessThan(2000);
      });
    });

    describe('several processes', () => {
      const children: Child[] = [];
      afterEach(async () => {
        for (const child of children.splice(0)) await stopChild(child);
      });

      it('two worker processes share the broker and run each task once', async (ctx) => {
        if (!(await isCrossProcess())) return ctx.skip(`${target.name} is not shared between processes`);
        const env = await setup();
        const childEnv = { BROKER_URL: env.url, LOG_FILE: env.log, CONCURRENCY: '20' };
        children.push(await startChild('test/fixtures/conformance-worker.ts', childEnv));
        children.push(await startChild('test/fixtures/conformance-worker.ts', childEnv));
        const results = await Promise.all(Array.from({ length: 300 }, (_, i) => env.tasks.record.delay(`p${i}`, 2)));
        await Promise.all(results.map((r) => r.get({ timeout: 30_000 })));
        const starts = env.lines().filter((l) => l.startsWith('start '));
        expect(starts).toHaveLength(300);
        expect(new Set(starts.map((l) => l.split(' ')[1])).size).toBe(300);
        const pids = new Set(starts.map((l) => l.split(' ')[3]));
        expect(pids.size).toBe(2);
      });

      it('a task whose worker process is killed (SIGKILL) runs again on another worker', async (ctx) => {
        if (!(await isCrossProcess())) return ctx.skip(`${target.name} is not shared between processes`);
        const env = await setup();
        const victim = await startChild('test/fixtures/conformance-worker.ts', {
          BROKER_URL: env.url,
          LOG_FILE: env.log,
          LEASE_MS: '1000',
        });
        children.push(victim);
        const r = await env.tasks.slow.delay('crash', 1500);
        await waitFor(() => env.lines().some((l) => l.startsWith('start crash')), 10_000, 'first start');
        await stopChild(victim, 'SIGKILL');
        children.push(
          await startChild('test/fixtures/conformance-worker.ts', { BROKER_URL: env.url, LOG_FILE: env.log, LEASE_MS: '1000' }),
        );
        expect(await r.get({ timeout: 15_000 })).toBe('crash');
        const starts = env.lines().filter((l) => l.startsWith('start crash'));
        expect(starts).toHaveLength(2);
        expect(starts[0]!.split(' ')[3]).not.toBe(starts[1]!.split(' ')[3]);
      });

      it('a handler that blocks the event loop for three leases runs once and succeeds', async (ctx) => {
        if (!(await isCrossProcess())) return ctx.skip(`${target.name} is not shared between processes`);
        const env = await setup();
        const childEnv = { BROKER_URL: env.url, LOG_FILE: env.log, LEASE_MS: '1000' };
        children.push(await startChild('test/fixtures/conformance-worker.ts', childEnv));
        children.push(await startChild('test/fixtures/conformance-worker.ts', childEnv));
        const r = await env.tasks.block.delay('busy', 3000);
        expect(await r.get({ timeout: 20_000 })).toBe('busy');
        // Another worker would have taken it over within ~1 s if the lease had lapsed.
        await delay(1500);
        expect(env.lines().filter((l) => l.startsWith('start busy'))).toHaveLength(1);
        expect(await r.info()).toMatchObject({ state: 'SUCCESS', attempts: 1 });
      });

      it('SIGTERM stops a worker process gracefully: the running task finishes', async (ctx) => {
        if (!(await isCrossProcess())) return ctx.skip(`${target.name} is not shared between processes`);
        const env = await setup();
        const child = await startChild('test/fixtures/conformance-worker.ts', { BROKER_URL: env.url, LOG_FILE: env.log });
        children.push(child);
        const r = await env.tasks.slow.delay('term', 500);
        await waitFor(() => env.lines().some((l) => l.startsWith('start term')), 10_000);
        child.process.kill('SIGTERM');
        expect(await child.exited).toBe(0);
        expect((await r.info())!.state).toBe('SUCCESS');
      });

      it("the README's worker process exits by itself after SIGTERM", async (ctx) => {
        if (!(await isCrossProcess())) return ctx.skip(`${target.name} is not shared between processes`);
        const env = await setup();
        const child = await startChild('test/fixtures/readme-worker.ts', { BROKER_URL: env.url });
        children.push(child);
        const r = await env.app.sendTask('readme.noop', []);
        expect(await r.get({ timeout: 10_000 })).toBe('ok');
        child.process.kill('SIGTERM');
        const code = await Promise.race([child.exited, delay(10_000).then(() => 'still running')]);
        expect(code).toBe(0);
      });

      it('status events reach a watcher in another process', async (ctx) => {
        if (!(await isCrossProcess())) return ctx.skip(`${target.name} is not shared between processes`);
        const env = await setup();
        children.push(await startChild('test/fixtures/conformance-worker.ts', { BROKER_URL: env.url, LOG_FILE: env.log }));
        const r = await env.tasks.slow.delay('remote', 200);
        const states: string[] = [];
        for await (const info of env.app.watch(r.id, { resyncMs: 60_000 })) states.push(info.state);
        expect(states.at(-1)).toBe('SUCCESS');
        expect(states).toContain('STARTED');
      });
    });
  });
}
