import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { delay } from '../../support/wait.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';
import { MIGRATIONS } from '../../../src/backends/sqlite/migrations/index.js';

// SQLite specifics (the file, its schema, the claim's order, prune); the contract every broker shares is
// test/conformance/.
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
});

describe('sqlite backend: expiry and prune', () => {
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
});
