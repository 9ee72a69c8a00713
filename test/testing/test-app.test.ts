import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  IdempotencyConflictError,
  SerializationError,
  TaskFailedError,
  TaskRevokedError,
  TimeoutError,
} from '../../src/index.js';
import { createTestApp, type TestApp, type TestAppOptions } from '../../src/testing/index.js';

class ProviderError extends Error {
  override name = 'ProviderError';
}

const apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.splice(0)) await t.close();
});

function testApp(options: TestAppOptions = {}): TestApp {
  const t = createTestApp({ now: new Date('2030-01-01T00:00:00Z'), ...options });
  apps.push(t);
  return t;
}

describe('errand/testing, inline mode', () => {
  it('runs a task on delay(): the result is there when delay() resolves', async () => {
    const t = testApp();
    const add = t.app.task('add', (_ctx, a: number, b: number) => a + b);
    const r = await add.delay(2, 3);
    expect(await r.info()).toMatchObject({ state: 'SUCCESS', result: 5, attempts: 1 });
    expect(await r.get()).toBe(5);
    expect(t.results).toEqual([
      expect.objectContaining({ id: r.id, name: 'add', args: [2, 3], state: 'SUCCESS', result: 5, attempts: 1, retries: 0 }),
    ]);
  });

  it('a failing task ends FAILURE; delay() still resolves and get() throws, as with a worker', async () => {
    const t = testApp();
    const boom = t.app.task('boom', () => {
      throw new TypeError('bad input');
    });
    const r = await boom.delay();
    const error = (await r.get().catch((e: unknown) => e)) as TaskFailedError;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.error).toEqual({ type: 'TypeError', message: 'bad input' });
  });

  it('arguments and results go through JSON as on a real broker', async () => {
    const t = testApp();
    const seen: unknown[] = [];
    const echo = t.app.task('echo', (_ctx, value: { list: number[]; when?: unknown }) => {
      seen.push(value);
      value.list.push(99); // the caller's object is not the handler's
      return { ...value, at: 'x' };
    });
    const input = { list: [1, 2] };
    const r = await echo.delay(input);
    expect(input.list).toEqual([1, 2]);
    expect(seen[0]).not.toBe(input);
    expect(await r.get()).toEqual({ list: [1, 2, 99], at: 'x' });
    // What JSON would change is refused at delay(), naming the path, and nothing is stored
    await expect(echo.delay({ list: [], when: new Date() })).rejects.toThrow(/args\[0\]\.when/);
    await expect(echo.delay({ list: [], when: new Map() } as never)).rejects.toBeInstanceOf(SerializationError);
    expect(t.enqueued('echo')).toHaveLength(1);
    // ...and a result JSON cannot carry fails the task, as a worker would
    const dated = t.app.task('dated', () => ({ at: new Date() }));
    const failed = (await (await dated.delay()).get().catch((e: unknown) => e)) as TaskFailedError;
    expect(failed.error.type).toBe('SerializationError');
  });

  it('a task enqueued by a handler runs inline too, before the handler goes on', async () => {
    const t = testApp();
    const order: string[] = [];
    const child = t.app.task('child', (_ctx, n: number) => {
      order.push(`child ${n}`);
      return n * 2;
    });
    const parent = t.app.task('parent', async (_ctx, n: number) => {
      order.push('parent start');
      const r = await child.delay(n);
      void child.delay(n + 1); // not awaited: still done before the outer delay() resolves
      const value = await r.get();
      order.push('parent end');
      return value;
    });
    const r = await parent.delay(4);
    expect(await r.get()).toBe(8);
    expect(order).toEqual(['parent start', 'child 4', 'child 5', 'parent end']);
    expect(t.resultsOf('child').map((c) => c.result)).toEqual([8, 10]);
  });

  it('a countdown or an ETA waits for the clock; advance() runs what fell due', async () => {
    const t = testApp();
    const add = t.app.task('add', (_ctx, a: number, b: number) => a + b);
    const later = await add.applyAsync([1, 1], { countdown: 60_000 });
    const eta = await add.applyAsync([2, 2], { eta: new Date(t.clock.now() + 120_000) });
    expect(await later.state()).toBe('PENDING');
    await t.advance(59_999);
    expect(await later.state()).toBe('PENDING');
    await t.advance(1);
    expect(await later.state()).toBe('SUCCESS');
    expect(await eta.state()).toBe('PENDING');
    await t.advance(60_000);
    expect(await eta.get()).toBe(4);
    expect((await eta.info())!.startedAt).toBe(new Date('2030-01-01T00:02:00Z').getTime());
  });

  it('retry backoff is clock time: each retry runs when the clock reaches it', async () => {
    const t = testApp();
    const flaky = t.app.task(
      'flaky',
      (ctx) => {
        if (ctx.attempt < 3) throw new ProviderError(`attempt ${ctx.attempt}`);
        return ctx.attempt;
      },
      { retry: { on: [ProviderError], max: 5, backoff: { base: 1000, jitter: 'none' } } },
    );
    const r = await flaky.delay();
    expect(await r.info()).toMatchObject({ state: 'RETRY', retries: 1, runAt: t.clock.now() + 1000 });
    await t.advance(999);
    expect((await r.info())!.attempts).toBe(1);
    await t.advance(1);
    expect(await r.info()).toMatchObject({ state: 'RETRY', attempts: 2, retries: 2, runAt: t.clock.now() + 2000 });
    await t.advance(2000);
    expect(await r.get()).toBe(3);
  });

  it('delayMany and applyAsyncMany run their tasks inline, results in order', async () => {
    const t = testApp();
    const add = t.app.task('add', (_ctx, a: number, b: number) => a + b);
    const rs = await add.delayMany([
      [1, 2],
      [3, 4],
    ]);
    expect(await Promise.all(rs.map((r) => r.get()))).toEqual([3, 7]);
    const keyed = await add.applyAsyncMany([
      { args: [1, 1], options: { idempotencyKey: 'k' } },
      { args: [1, 1], options: { idempotencyKey: 'k' } },
      { args: [5, 5], options: { countdown: 10 } },
    ]);
    expect(keyed[1]!.id).toBe(keyed[0]!.id);
    expect(t.enqueued('add').map((c) => c.created)).toEqual([true, true, true, false, true]);
    expect(await keyed[2]!.state()).toBe('PENDING');
  });
});

describe('errand/testing, manual mode', () => {
  it('tasks wait until drain(); enqueued() shows the calls with their arguments', async () => {
    const t = testApp({ mode: 'manual' });
    const send = t.app.task('email.send', (_ctx, to: string, opts: { subject: string }) => `${to}: ${opts.subject}`, {
      queue: 'mail',
    });
    const r = await send.delay('a@example.com', { subject: 'hi' });
    await send.applyAsync(['b@example.com', { subject: 'later' }], { countdown: 5000, idempotencyKey: 'b' });
    expect(await r.state()).toBe('PENDING');
    expect(t.enqueued('email.send')).toEqual([
      expect.objectContaining({ id: r.id, args: ['a@example.com', { subject: 'hi' }], queue: 'mail', created: true }),
      expect.objectContaining({ idempotencyKey: 'b', runAt: t.clock.now() + 5000 }),
    ]);
    expect(await t.drain()).toBe(1);
    expect(await r.get()).toBe('a@example.com: hi');
    expect(t.results.map((x) => x.args[0])).toEqual(['a@example.com']);
    expect(await t.drain({ advance: true })).toBe(1);
    expect(t.clock.now()).toBe(new Date('2030-01-01T00:00:05Z').getTime());
    expect(t.results).toHaveLength(2);
  });

  it('drain() runs what tasks enqueue and retries that are due at once; drain({ advance }) also those with a backoff', async () => {
    const t = testApp({ mode: 'manual' });
    const calls: number[] = [];
    const flaky = t.app.task(
      'flaky',
      (ctx, backoff: number) => {
        calls.push(backoff);
        if (ctx.retries < 2) ctx.retry({ countdown: backoff });
        return ctx.attempt;
      },
      { retry: { max: 5 } },
    );
    const fanOut = t.app.task('fanout', async () => {
      await flaky.delay(0);
      return 'sent';
    });
    await fanOut.delay();
    await flaky.delay(30_000);
    expect(await t.drain()).toBe(5); // fanout, flaky(0) three times, flaky(30000) once
    expect(calls).toEqual([30_000, 0, 0, 0]);
    expect(await t.drain()).toBe(0);
    const before = t.clock.now();
    expect(await t.drain({ advance: true })).toBe(2);
    expect(t.clock.now()).toBe(before + 60_000);
    expect(t.resultsOf('flaky').map((r) => r.result)).toEqual([3, 3]);
  });

  it('time limits run on the clock: advancing it past the timeout fails a stuck attempt', async () => {
    const t = testApp({ mode: 'manual' });
    const stuck = t.app.task('stuck', () => new Promise(() => {}), { timeout: 30_000 });
    const r = await stuck.delay();
    const draining = t.drain();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await r.state()).toBe('STARTED');
    t.clock.advance(30_000);
    await draining;
    const error = (await r.get().catch((e: unknown) => e)) as TaskFailedError;
    expect(error.error.type).toBe('TimeoutError');
    expect(new TimeoutError('x').code).toBe('ERR_TIMEOUT');
  });

  it('expires and result expiry follow the clock', async () => {
    const t = testApp({ mode: 'manual', resultTtlMs: 60_000 });
    const add = t.app.task('add', (_ctx, a: number, b: number) => a + b);
    const stale = await add.applyAsync([1, 1], { expires: 1000 });
    const fresh = await add.applyAsync([2, 2], { idempotencyKey: 'k' });
    t.clock.advance(1000);
    await t.drain();
    await expect(stale.get()).rejects.toBeInstanceOf(TaskRevokedError);
    expect(t.results.map((r) => r.state).sort()).toEqual(['REVOKED', 'SUCCESS']);
    t.clock.advance(59_999);
    expect(await fresh.info()).not.toBeNull();
    t.clock.advance(1);
    expect(await fresh.info()).toBeNull();
    // the key is free again once the task is forgotten
    const again = await add.applyAsync([2, 2], { idempotencyKey: 'k' });
    expect(again.id).not.toBe(fresh.id);
  });

  it('close() aborts a task that is still running instead of waiting for it', async () => {
    const t = createTestApp({ mode: 'manual' });
    let signal: AbortSignal | undefined;
    const hung = t.app.task('hung', (ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    });
    await hung.delay();
    const draining = t.drain();
    await new Promise((resolve) => setImmediate(resolve));
    await t.close();
    await draining;
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as Error).name).toBe('ShutdownError');
  });

  it('drain() stops a task that keeps enqueueing itself', async () => {
    const t = testApp({ mode: 'manual' });
    const forever = t.app.task('forever', async (): Promise<void> => {
      await forever.delay();
    });
    await forever.delay();
    await expect(t.drain({ maxTasks: 50 })).rejects.toThrow(/ran 50 tasks/);
  });

  it('clear() forgets the records; close() closes the app', async () => {
    const t = createTestApp({ mode: 'manual' });
    const add = t.app.task('add', (_ctx, a: number, b: number) => a + b);
    await add.delay(1, 2);
    t.clear();
    expect(t.enqueued()).toEqual([]);
    await t.close();
    await expect(add.delay(1, 2)).rejects.toThrow(/closed/);
    await expect(t.drain()).rejects.toThrow(/closed/);
    expect(() => createTestApp({ mode: 'eager' as never })).toThrow(/mode/);
  });

  it('an idempotency conflict is recorded and, with onConflict: error, thrown', async () => {
    const t = testApp({ mode: 'manual', idempotency: { onConflict: 'error' } });
    const add = t.app.task('add', (_ctx, a: number, b: number) => a + b);
    const first = await add.applyAsync([1, 2], { idempotencyKey: 'order-1' });
    const error = (await add
      .applyAsync([9, 9], { idempotencyKey: 'order-1' })
      .catch((e: unknown) => e)) as IdempotencyConflictError;
    expect(error).toBeInstanceOf(IdempotencyConflictError);
    expect(error).toMatchObject({ code: 'ERR_IDEMPOTENCY_CONFLICT', idempotencyKey: 'order-1', taskId: first.id });
    expect(t.enqueued('add').at(-1)).toMatchObject({ created: false, conflict: true, id: first.id });
    await expect(add.applyAsync([1, 2], { idempotency: { onConflict: 'bogus' as never } })).rejects.toBeInstanceOf(ConfigError);
  });
});
