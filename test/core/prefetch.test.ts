import { describe, expect, it } from 'vitest';
import type { ClaimedTask } from '../../src/core/backend.js';
import { PrefetchBuffer } from '../../src/core/prefetch.js';
import { closeAfterEach, recordingApp } from '../support/apps.js';
import { waitFor } from '../support/wait.js';

const opened = closeAfterEach();

/** A memory app whose claims are counted, with a worker of concurrency 1. */
function countedApp() {
  const { app, backend } = recordingApp(opened);
  const limits: number[] = [];
  /** The worker that last claimed each task, and every claim in order. */
  const claimedBy = new Map<string, string>();
  const log: string[] = [];
  const claim = backend.claim.bind(backend);
  backend.claim = async (request) => {
    const got = await claim(request);
    if (got.length > 0) limits.push(got.length);
    for (const task of got) {
      claimedBy.set(task.id, request.workerId);
      log.push(`${task.id}@${request.workerId}`);
    }
    return got;
  };
  return { app, backend, claims: limits, claimedBy, log };
}

describe('worker prefetch', () => {
  it('brings several short tasks per claim, yet runs one at a time at concurrency 1', async () => {
    const { app, claims } = countedApp();
    let running = 0;
    let most = 0;
    const ran: number[] = [];
    const short = app.task('short', async (_ctx, n: number) => {
      running++;
      most = Math.max(most, running);
      await Promise.resolve();
      ran.push(n);
      running--;
    });
    await short.delay(-1); // the first one alone: nothing is prefetched before a task has finished
    const worker = app.worker({ concurrency: 1, handleSignals: false, claimWaitMs: 50 });
    await worker.start();
    opened.push(() => worker.stop({ graceMs: 0 }));
    await waitFor(() => ran.length === 1, 5000, 'the first task');
    await short.delayMany(Array.from({ length: 200 }, (_, i): [number] => [i]));
    await waitFor(() => ran.length === 201, 10_000, 'every task');
    expect(most).toBe(1);
    expect(new Set(ran).size).toBe(201);
    expect(claims[0]).toBe(1);
    // 200 tasks in far fewer claims than tasks: several came with each
    expect(claims.length).toBeLessThan(100);
    expect(Math.max(...claims)).toBeGreaterThan(1);
  });

  it('with prefetch 0 every claim brings one task at concurrency 1', async () => {
    const { app, claims } = countedApp();
    const ran: number[] = [];
    const short = app.task('short', (_ctx, n: number) => void ran.push(n));
    const worker = app.worker({ concurrency: 1, prefetch: 0, handleSignals: false, claimWaitMs: 50 });
    await worker.start();
    opened.push(() => worker.stop({ graceMs: 0 }));
    await short.delayMany(Array.from({ length: 30 }, (_, i): [number] => [i]));
    await waitFor(() => ran.length === 30, 10_000, 'every task');
    expect(Math.max(...claims)).toBe(1);
  });

  it('short tasks held behind a long one go back to the queue, and another worker runs them meanwhile', async () => {
    const { app, claimedBy, log } = countedApp();
    let releaseLong!: () => void;
    const longDone = new Promise<void>((resolve) => (releaseLong = resolve));
    const ranBy = new Map<string, string>();
    const job = app.task('job', async (ctx, kind: string) => {
      if (kind === 'long') await longDone;
      ranBy.set(ctx.id, claimedBy.get(ctx.id)!);
    });
    const first = app.worker({ id: 'first', concurrency: 1, handleSignals: false, claimWaitMs: 50 });
    await first.start();
    opened.push(() => first.stop({ graceMs: 0 }));
    await job.delayMany([['warm'], ['warm'], ['warm']]);
    await waitFor(() => ranBy.size === 3, 5000, 'the warm-up tasks');
    // one claim takes the long task and prefetches the short ones behind it
    const handles = await job.delayMany([['long'], ['short'], ['short'], ['short']]);
    const shortIds = handles.slice(1).map((h) => h.id);
    await waitFor(() => ranBy.size === 3 && first.running === 1, 5000, 'the long task to start');
    const second = app.worker({ id: 'second', concurrency: 1, handleSignals: false, claimWaitMs: 50 });
    await second.start();
    opened.push(() => second.stop({ graceMs: 0 }));
    await waitFor(() => shortIds.every((id) => ranBy.has(id)), 5000, 'the short tasks');
    expect(shortIds.map((id) => ranBy.get(id))).toEqual(['second', 'second', 'second']);
    // the first worker had prefetched them (those its claims caught), then put them back
    const givenBack = shortIds.filter((id) => log.includes(`${id}@first`));
    expect(givenBack.length).toBeGreaterThan(0);
    for (const id of givenBack) {
      // a claim of the first worker already waiting may catch it once more, and gives it back at once
      const claims = log.filter((entry) => entry.startsWith(id));
      expect(claims.at(-1)).toBe(`${id}@second`);
      expect(new Set(claims.slice(0, -1))).toEqual(new Set([`${id}@first`]));
    }
    expect(ranBy.has(handles[0]!.id)).toBe(false); // the long one still runs on the first worker
    releaseLong();
    expect(await handles[0]!.get({ timeout: 5000 })).toBeNull();
    expect(ranBy.get(handles[0]!.id)).toBe('first');
  });

  it('a revoked task that waits in the buffer never runs; stop() puts the waiting ones back', async () => {
    const { app } = countedApp();
    let releaseLong!: () => void;
    const longDone = new Promise<void>((resolve) => (releaseLong = resolve));
    const ran: string[] = [];
    const job = app.task('job', async (ctx, kind: string) => {
      if (kind === 'long') await longDone;
      ran.push(ctx.id);
    });
    const worker = app.worker({ concurrency: 1, handleSignals: false, claimWaitMs: 50 });
    await worker.start();
    await job.delay('warm');
    await waitFor(() => ran.length === 1, 5000, 'the warm-up task');
    const [long, revoked, kept] = await job.delayMany([['long'], ['short'], ['short']]);
    await waitFor(() => worker.running === 1, 5000, 'the long task to start');
    await revoked!.revoke();
    const stopping = worker.stop({ graceMs: 5000 });
    releaseLong();
    await stopping;
    expect(ran).toContain(long!.id);
    expect(ran).not.toContain(revoked!.id);
    expect((await revoked!.info())?.state).toBe('REVOKED');
    // kept either never left the queue or was put back: pending, first attempt still to come
    const info = await kept!.info();
    expect(ran).not.toContain(kept!.id);
    expect(info?.state).toBe('PENDING');
  });
});

describe('PrefetchBuffer', () => {
  const task = (id: string): ClaimedTask => ({ id }) as ClaimedTask;

  it('allows nothing until a task finished, then as many as the slots clear in about 2 ms', () => {
    const buffer = new PrefetchBuffer(40, 4, () => {});
    expect(buffer.allowance()).toBe(0);
    buffer.observe(0);
    expect(buffer.allowance()).toBe(40);
    const slow = new PrefetchBuffer(40, 4, () => {});
    slow.observe(1);
    expect(slow.allowance()).toBe(8); // 2 ms × 4 slots / 1 ms
    slow.observe(100);
    expect(slow.allowance()).toBe(0);
    expect(new PrefetchBuffer(0, 4, () => {}).allowance()).toBe(0);
  });

  it('drop() takes a waiting task out; takeAll() empties it in order', () => {
    const buffer = new PrefetchBuffer(10, 1, () => {});
    for (const id of ['a', 'b', 'c']) buffer.push(task(id));
    expect(buffer.drop('b')).toBe(true);
    expect(buffer.drop('x')).toBe(false);
    expect(buffer.takeAll().map((t) => t.id)).toEqual(['a', 'c']);
    expect(buffer.size).toBe(0);
  });

  it('hands stale tasks on and allows nothing more until a task finishes', async () => {
    const stale: string[] = [];
    const buffer = new PrefetchBuffer(10, 1, (tasks) => stale.push(...tasks.map((t) => t.id)));
    buffer.observe(0);
    buffer.push(task('a'));
    buffer.push(task('b'));
    await waitFor(() => stale.length === 2, 5000, 'the stale hand-off');
    expect(stale).toEqual(['a', 'b']);
    expect(buffer.size).toBe(0);
    expect(buffer.allowance()).toBe(0);
    buffer.observe(0.5);
    expect(buffer.allowance()).toBe(4);
  });
});
