import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ClosedError } from '../../../src/core/errors.js';
import type { TaskInfo } from '../../../src/core/types.js';
import { delay, waitFor } from '../../support/wait.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';
import { MIGRATIONS } from '../../../src/backends/sqlite/migrations/index.js';

const pool = new BackendPool();
afterEach(() => pool.cleanup());

describe('sqlite backend: storage', () => {
  it('stores a task durably with exactly the TaskInfo fields, and reopens with the schema migrated once', async () => {
    const filename = pool.newFile();
    const first = pool.open({ filename });
    const task = newTask({ expiresAt: Date.now() + 60_000 });
    expect(await first.enqueue(task)).toEqual({ id: task.id, created: true });
    await first.close();

    const second = pool.open({ filename });
    expect(await second.getInfo(task.id)).toEqual({
      id: task.id,
      name: 'test.task',
      queue: 'q',
      state: 'PENDING',
      version: 1,
      attempts: 0,
      retries: 0,
      enqueuedAt: task.enqueuedAt,
      runAt: task.runAt,
    });
    expect(await second.getInfo(randomUUID())).toBeNull();
    const raw = new Database(filename, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('throws ClosedError after close, and close wakes a waiting claim with ClosedError', async () => {
    const backend = pool.open();
    // Caught at once: the rejection may come while close() is still being awaited.
    const waiting = backend.claim(claimRequest({ waitMs: 10_000 })).catch((error: unknown) => error);
    await delay(20);
    await backend.close();
    expect(await waiting).toBeInstanceOf(ClosedError);
    await expect(backend.enqueue(newTask())).rejects.toBeInstanceOf(ClosedError);
    await expect(backend.getInfo('x')).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('sqlite backend: claim', () => {
  it('hands out due tasks in due order (ties by enqueue order), up to the limit, queue by queue', async () => {
    const backend = pool.open();
    const t = Date.now() - 1000;
    const a = newTask({ runAt: t + 30 });
    const b = newTask({ runAt: t + 10 });
    const c = newTask({ runAt: t + 30 });
    const d = newTask({ runAt: t + 20 });
    const urgent = newTask({ queue: 'urgent', runAt: t + 500 });
    await backend.enqueueMany([a, b, c, d, urgent]);

    const first = await backend.claim(claimRequest({ queues: ['urgent', 'q'], limit: 3 }));
    expect(first.map((x) => x.id)).toEqual([urgent.id, b.id, d.id]);
    expect(first[1]).toEqual({
      id: b.id,
      name: 'test.task',
      queue: 'q',
      payload: '[1,"a"]',
      attempt: 1,
      retries: 0,
      enqueuedAt: b.enqueuedAt,
      workerId: 'w1',
    });
    const rest = await backend.claim(claimRequest({ queues: ['urgent', 'q'] }));
    expect(rest.map((x) => x.id)).toEqual([a.id, c.id]);
    expect(await backend.claim(claimRequest())).toEqual([]);

    const info = (await backend.getInfo(b.id))!;
    expect(info).toMatchObject({ state: 'STARTED', version: 2, attempts: 1 });
    expect(info.startedAt).toBeGreaterThanOrEqual(b.enqueuedAt);
  });

  it('never hands out a task before its due time, and wakes a waiting claim when it becomes due', async () => {
    const backend = pool.open();
    const runAt = Date.now() + 300;
    const later = newTask({ runAt });
    await backend.enqueue(later);
    expect(await backend.claim(claimRequest())).toEqual([]);
    const started = Date.now();
    const claimed = await backend.claim(claimRequest({ waitMs: 5_000 }));
    expect(claimed.map((x) => x.id)).toEqual([later.id]);
    expect(Date.now()).toBeGreaterThanOrEqual(runAt);
    // woken by the due time, not by the end of the wait
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(await backend.claim(claimRequest())).toEqual([]);
  });

  it('a waiting claim is woken by an enqueue in the same process, and gives up on abort or when the wait ends', async () => {
    const backend = pool.open();
    const waiting = backend.claim(claimRequest({ waitMs: 10_000 }));
    await delay(30);
    const task = newTask();
    await backend.enqueue(task);
    expect((await waiting).map((x) => x.id)).toEqual([task.id]);

    const controller = new AbortController();
    const aborted = backend.claim(claimRequest({ waitMs: 10_000, signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    expect(await aborted).toEqual([]);
    expect(await backend.claim(claimRequest({ waitMs: 50 }))).toEqual([]);
  });

  it('a task that expired before starting ends REVOKED with TaskExpired and is not handed out', async () => {
    const backend = pool.open();
    const expired = newTask({ expiresAt: Date.now() - 1 });
    const fine = newTask({ expiresAt: Date.now() + 60_000 });
    await backend.enqueueMany([expired, fine]);
    const claimed = await backend.claim(claimRequest({ limit: 1 }));
    expect(claimed.map((x) => x.id)).toEqual([fine.id]);
    const info = (await backend.getInfo(expired.id))!;
    expect(info).toMatchObject({ state: 'REVOKED', version: 2, attempts: 0, error: { type: 'TaskExpired' } });
    expect(info.finishedAt).toBeDefined();
  });
});

describe('sqlite backend: worker-side transitions', () => {
  it('progress, complete: versions bump, result is the parsed JSON, finished fields set', async () => {
    const backend = pool.open();
    const task = newTask();
    await backend.enqueue(task);
    const [claimed] = await backend.claim(claimRequest());
    expect(await backend.recordProgress(claimed!, { current: 1, total: 4, meta: { step: 'x' } })).toBe(true);
    expect(await backend.getInfo(task.id)).toMatchObject({
      state: 'PROGRESS',
      version: 3,
      progress: { current: 1, total: 4, meta: { step: 'x' } },
    });
    expect(await backend.complete(claimed!, '{"a":[1,null,"ü\\u2028"]}')).toBe(true);
    const done = (await backend.getInfo(task.id))!;
    expect(done).toMatchObject({ state: 'SUCCESS', version: 4, result: { a: [1, null, 'ü\u2028'] } });
    expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt!);
    // a finished task cannot be finished again
    expect(await backend.complete(claimed!, '1')).toBe(false);
    expect(await backend.fail(claimed!, { type: 'E', message: 'm' })).toBe(false);
  });

  it('a null result is stored as null, not left out', async () => {
    const backend = pool.open();
    await backend.enqueue(newTask());
    const [claimed] = await backend.claim(claimRequest());
    expect(await backend.complete(claimed!, 'null')).toBe(true);
    const info = (await backend.getInfo(claimed!.id))!;
    expect('result' in info).toBe(true);
    expect(info.result).toBeNull();
  });

  it('after a lease expired and the task was redelivered: the old delivery may only succeed, once', async () => {
    const backend = pool.open();
    const task = newTask();
    await backend.enqueue(task);
    const [old] = await backend.claim(claimRequest({ workerId: 'dead', leaseMs: 1 }));
    await delay(10);
    expect(await backend.rescueExpired()).toBe(1);
    expect(await backend.getInfo(task.id)).toMatchObject({ state: 'PENDING', version: 3, attempts: 1 });
    const [current] = await backend.claim(claimRequest({ workerId: 'alive' }));
    expect(current).toMatchObject({ id: task.id, attempt: 2, workerId: 'alive' });

    expect(await backend.recordProgress(old!, { current: 1 })).toBe(false);
    expect(await backend.retryLater(old!, { type: 'E', message: 'm' }, Date.now())).toBe(false);
    expect(await backend.release(old!)).toBe(false);
    expect(await backend.deadLetter(old!, { type: 'E', message: 'm' })).toBe(false);
    expect(await backend.extendLeases([old!, current!], 30_000)).toEqual([task.id]); // only the old delivery lost it
    // same worker id but a later attempt is forged
    expect(await backend.complete({ ...current!, attempt: 3 }, '3')).toBe(false);
    expect(await backend.listDeadLetters(10)).toEqual([]);

    // A success of the earlier delivery still counts (first finisher wins); the live one is then stale.
    expect(await backend.complete(old!, '1')).toBe(true);
    expect(await backend.complete(current!, '2')).toBe(false);
    expect(await backend.getInfo(task.id)).toMatchObject({ state: 'SUCCESS', result: 1, attempts: 2 });
    expect(await backend.rescueExpired()).toBe(0);
  });

  it('extendLeases keeps a live lease from being rescued', async () => {
    const backend = pool.open();
    await backend.enqueue(newTask());
    const [claimed] = await backend.claim(claimRequest({ leaseMs: 50 }));
    expect(await backend.extendLeases([claimed!], 60_000)).toEqual([]);
    await delay(80);
    expect(await backend.rescueExpired()).toBe(0);
  });

  it('fail ends FAILURE with the error', async () => {
    const backend = pool.open();
    await backend.enqueue(newTask());
    const [claimed] = await backend.claim(claimRequest());
    expect(await backend.fail(claimed!, { type: 'Boom', message: 'bad' })).toBe(true);
    expect(await backend.getInfo(claimed!.id)).toMatchObject({
      state: 'FAILURE',
      error: { type: 'Boom', message: 'bad' },
    });
  });
});

describe('sqlite backend: revoke', () => {
  it('a pending task is REVOKED and never runs; unknown is null; a finished task comes back unchanged', async () => {
    const backend = pool.open();
    const heard: string[] = [];
    const off = await backend.subscribeRevocations((id) => heard.push(id));
    const task = newTask();
    await backend.enqueue(task);
    const revoked = (await backend.revoke(task.id))!;
    expect(revoked).toMatchObject({ state: 'REVOKED', version: 2 });
    expect(revoked.finishedAt).toBeDefined();
    expect(await backend.claim(claimRequest())).toEqual([]);
    expect(await backend.revoke(task.id)).toEqual(revoked);
    expect(await backend.revoke(randomUUID())).toBeNull();
    await delay(30);
    expect(heard).toEqual([]); // it was not running: no worker to tell
    await off();
  });

  it('a running task is REVOKED, revocation listeners hear it, and the worker can no longer finish it', async () => {
    const backend = pool.open();
    const heard: string[] = [];
    const statuses: TaskInfo[] = [];
    const offRevocations = await backend.subscribeRevocations((id) => heard.push(id));
    const task = newTask();
    await backend.enqueue(task);
    const offStatus = await backend.subscribeStatus(task.id, (info) => statuses.push(info));
    const [claimed] = await backend.claim(claimRequest());
    expect(await backend.revoke(task.id)).toMatchObject({ state: 'REVOKED', version: 3 });
    expect(heard).toEqual([task.id]); // in-process: at once, no poll needed
    expect(statuses.map((s) => [s.state, s.version])).toEqual([
      ['STARTED', 2],
      ['REVOKED', 3],
    ]);
    expect(await backend.complete(claimed!, '1')).toBe(false);
    expect(await backend.extendLeases([claimed!], 1000)).toEqual([task.id]);
    await offRevocations();
    await offStatus();
  });
});

describe('sqlite backend: idempotency, expiry, dead letters', () => {
  it('an idempotency key maps to one task while it is known, also within one enqueueMany', async () => {
    const backend = pool.open({ resultTtlMs: 100 });
    const first = newTask({ idempotencyKey: 'k1' });
    expect(await backend.enqueue(first)).toEqual({ id: first.id, created: true });
    expect(await backend.enqueue(newTask({ idempotencyKey: 'k1' }))).toEqual({ id: first.id, created: false });
    const [x, y, z] = [newTask({ idempotencyKey: 'k2' }), newTask({ idempotencyKey: 'k2' }), newTask({ idempotencyKey: 'k1' })];
    expect(await backend.enqueueMany([x, y, z])).toEqual([
      { id: x.id, created: true },
      { id: x.id, created: false },
      { id: first.id, created: false },
    ]);
    expect(await backend.getInfo(y.id)).toBeNull();
    const claimed = await backend.claim(claimRequest());
    expect(claimed.map((c) => c.id)).toEqual([first.id, x.id]);

    // once the task's result expired the key is free again
    await backend.complete(claimed[0]!, '1');
    await delay(150);
    const again = newTask({ idempotencyKey: 'k1' });
    expect(await backend.enqueue(again)).toEqual({ id: again.id, created: true });
  });

  it('finished tasks expire after resultTtlMs and prune deletes them (and only them)', async () => {
    const backend = pool.open({ resultTtlMs: 100 });
    const done = newTask({ idempotencyKey: 'done' });
    const pending = newTask();
    const running = newTask();
    await backend.enqueue(done);
    const [claimed] = await backend.claim(claimRequest());
    await backend.enqueueMany([pending, running]);
    await backend.claim(claimRequest({ limit: 1, queues: ['q'] })); // takes `pending`, which is older
    await backend.complete(claimed!, '"r"');
    expect(await backend.getInfo(done.id)).toMatchObject({ state: 'SUCCESS', result: 'r' });
    expect(await backend.prune()).toBe(0);
    await delay(150);
    expect(await backend.getInfo(done.id)).toBeNull();
    expect(await backend.revoke(done.id)).toBeNull();
    expect(await backend.prune()).toBe(1);
    expect(await backend.prune()).toBe(0);
    expect(await backend.getInfo(pending.id)).toMatchObject({ state: 'STARTED' });
    expect(await backend.getInfo(running.id)).toMatchObject({ state: 'PENDING' });
  });

  it('prune deletes a large backlog in short transactions that let other writes in between', async () => {
    const backend = pool.open({ resultTtlMs: 50 });
    const tasks = Array.from({ length: 1300 }, () => newTask());
    await backend.enqueueMany(tasks);
    for (const claimed of await backend.claim(claimRequest({ limit: 1300 }))) await backend.complete(claimed, '1');
    await delay(80);
    const order: string[] = [];
    const pruning = backend.prune().then((count) => (order.push('prune'), count));
    const late = newTask();
    await backend.enqueue(late).then(() => order.push('enqueue'));
    expect(await pruning).toBe(1300);
    // the enqueue asked after prune began was committed between two of its batches, not after all of them
    expect(order).toEqual(['enqueue', 'prune']);
    expect(await backend.getInfo(late.id)).toMatchObject({ state: 'PENDING' });
    expect(await backend.prune()).toBe(0);
  });

  it('dead letters are kept newest first, capped at deadLetterLimit', async () => {
    const backend = pool.open({ deadLetterLimit: 3 });
    const tasks = Array.from({ length: 5 }, (_, i) => newTask({ payload: `[${i}]` }));
    await backend.enqueueMany(tasks);
    const claimed = await backend.claim(claimRequest());
    for (const [i, task] of claimed.entries()) {
      expect(await backend.deadLetter(task, { type: 'UnknownTaskError', message: `m${i}` })).toBe(true);
      expect(await backend.getInfo(task.id)).toMatchObject({
        state: 'FAILURE',
        error: { type: 'UnknownTaskError', message: `m${i}` },
      });
    }
    const letters = await backend.listDeadLetters(10);
    expect(letters.map((l) => l.payload)).toEqual(['[4]', '[3]', '[2]']);
    expect(letters[0]).toMatchObject({ id: tasks[4]!.id, name: 'test.task', queue: 'q', error: { message: 'm4' } });
    expect(typeof letters[0]!.at).toBe('number');
    expect(await backend.listDeadLetters(1)).toHaveLength(1);
  });
});

describe('sqlite backend: two connections on one file (as two processes would be)', () => {
  it("status subscribers and revocation listeners hear the other connection's commits", async () => {
    const filename = pool.newFile();
    const producer = pool.open({ filename });
    const watcher = pool.open({ filename });
    const task = newTask();
    const statuses: TaskInfo[] = [];
    const heard: string[] = [];
    await watcher.subscribeStatus(task.id, (info) => statuses.push(info));
    await watcher.subscribeRevocations((id) => heard.push(id));
    await producer.enqueue(task);
    const [claimed] = await producer.claim(claimRequest());
    await producer.recordProgress(claimed!, { current: 1 });
    await producer.complete(claimed!, '{"ok":true}');
    await waitFor(() => statuses.length === 3, 5_000, 'three status events');
    expect(statuses.map((s) => [s.state, s.version])).toEqual([
      ['STARTED', 2],
      ['PROGRESS', 3],
      ['SUCCESS', 4],
    ]);
    expect(statuses[2]!.result).toEqual({ ok: true });

    const running = newTask();
    await producer.enqueue(running);
    await producer.claim(claimRequest());
    await producer.revoke(running.id);
    await waitFor(() => heard.length === 1, 5_000, 'a revocation');
    expect(heard).toEqual([running.id]);
  });

  it("a waiting claim is woken by the other connection's enqueue", async () => {
    const filename = pool.newFile();
    const worker = pool.open({ filename });
    const producer = pool.open({ filename });
    const waiting = worker.claim(claimRequest({ waitMs: 10_000 }));
    await delay(30);
    const task = newTask();
    const started = Date.now();
    await producer.enqueue(task);
    expect((await waiting).map((x) => x.id)).toEqual([task.id]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
