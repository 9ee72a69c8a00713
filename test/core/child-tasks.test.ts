import { expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory/memory-backend.js';
import { suspendForChildren } from '../../src/core/child-tasks.js';
import { WaitRequest } from '../../src/core/context.js';
import { TaskFailedError, type Errand, type TaskInfo } from '../../src/index.js';
import { closeAfterEach, openTargetApp, recordingApp } from '../support/apps.js';
import { describeEachBroker } from '../support/brokers.js';
import { waitFor } from '../support/wait.js';

const opened = closeAfterEach();

it('a child that ends before its parent is put back still resumes it: the parent is due at once', async () => {
  const backend = new MemoryBackend({ resultTtlMs: 60_000, deadLetterLimit: 10 });
  const t = Date.now();
  await backend.enqueueMany([
    { id: 'parent', name: 'p', queue: 'default', payload: '[]', enqueuedAt: t, runAt: t },
    { id: 'child', name: 'c', queue: 'default', payload: '[]', enqueuedAt: t, runAt: t },
  ]);
  const claimed = await backend.claim({ workerId: 'w', queues: ['default'], limit: 2, leaseMs: 30_000, waitMs: 0 });
  const [parent, child] = claimed.sort((a) => (a.id === 'parent' ? -1 : 1));
  // the child's end (and its resume follow-up) came while the parent still ran: nothing to wake then
  expect(await backend.complete(child!, '1')).toBe(true);
  expect(await backend.wake('parent')).toBe(false);
  await suspendForChildren(backend, parent!, new WaitRequest(['child'], 60_000), Date.now());
  const info = (await backend.getInfo('parent'))!;
  expect(info.state).toBe('PENDING');
  expect(info.runAt).toBeLessThanOrEqual(Date.now());
});

it('ctx.waitFor on a broker without wake is a ConfigError', async () => {
  const { app } = recordingApp(opened, false);
  const child = app.task('child', () => 1);
  const parent = app.task('parent', async (ctx) => ctx.waitFor(await ctx.enqueue(child, [])), { retry: { max: 0 } });
  const worker = app.worker({ handleSignals: false, claimWaitMs: 100 });
  await worker.start();
  opened.push(() => worker.stop());
  await expect((await parent.delay()).get({ timeout: 5_000 })).rejects.toThrow(/ctx.waitFor needs a broker with wake/);
});

describeEachBroker('child tasks: ctx.enqueue and ctx.waitFor', (target) => {
  const open = (): Errand => openTargetApp(target, 'children', opened);
  const start = async (app: Errand, concurrency = 1): Promise<void> => {
    const worker = app.worker({ handleSignals: false, concurrency, claimWaitMs: 200 });
    await worker.start();
    opened.push(() => worker.stop({ graceMs: 0 }));
  };

  it('a parent waits for its children without holding its slot (one slot in all), each child runs once', async () => {
    const app = open();
    const childRuns: number[] = [];
    let parentRuns = 0;
    const square = app.task('math.square', (_ctx, n: number) => {
      childRuns.push(n);
      return n * n;
    });
    const sumOfSquares = app.task('math.sumOfSquares', async (ctx, ns: number[]) => {
      parentRuns++;
      const children = [];
      for (const n of ns) children.push(await ctx.enqueue(square, [n]));
      const squares = await ctx.waitFor(children);
      return squares.reduce((a, b) => a + b, 0);
    });
    await start(app, 1);
    const result = await sumOfSquares.delay([1, 2, 3]);
    expect(await result.get({ timeout: 20_000 })).toBe(14);
    expect(childRuns.sort()).toEqual([1, 2, 3]);
    // the parent ran again once the children were done (at least once more), its waits not counted as attempts
    expect(parentRuns).toBeGreaterThanOrEqual(2);
    expect((await result.info())?.attempts).toBe(1);
  });

  it('while it waits the parent is PENDING with its children done of all as progress', async () => {
    const app = open();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const quick = app.task('child.quick', () => 'q');
    const slow = app.task('child.slow', async () => {
      await gate;
      return 's';
    });
    const parent = app.task('parent.both', async (ctx) => {
      const a = await ctx.enqueue(quick, []);
      const b = await ctx.enqueue(slow, []);
      return ctx.waitFor([a, b]);
    });
    await start(app, 2);
    const result = await parent.delay();
    let seen: TaskInfo | null = null;
    await waitFor(async () => {
      seen = await result.info();
      return seen?.state === 'PENDING' && seen.progress?.current === 1;
    }, 15_000);
    expect(seen!.progress).toEqual({ current: 1, total: 2 });
    release();
    expect(await result.get({ timeout: 15_000 })).toEqual(['q', 's']);
  });

  it('a failed child fails the waiting parent with TaskFailedError', async () => {
    const app = open();
    const bad = app.task(
      'child.bad',
      () => {
        throw new Error('no such user');
      },
      { retry: { max: 0 } },
    );
    const parent = app.task('parent.bad', async (ctx) => ctx.waitFor(await ctx.enqueue(bad, [])), { retry: { max: 0 } });
    await start(app, 2);
    const error = await (await parent.delay()).get({ timeout: 15_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as TaskFailedError).error.message).toMatch(/TaskFailedError|no such user/);
  });
});
