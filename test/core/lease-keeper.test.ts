import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendSpec, ClaimedTask } from '../../src/core/backend.js';
import type { LeaseKeeperOptions } from '../../src/core/leases/lease-keeper.js';
import { ThreadLeaseKeeper } from '../../src/core/leases/thread-lease-keeper.js';
import type { Logger } from '../../src/core/logger.js';
import { SqliteBackend } from '../../src/backends/sqlite/index.js';
import { delay, waitFor } from '../support/wait.js';

/** Blocks this thread's event loop, as a synchronous handler would. */
function blockFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

interface LogLine {
  level: string;
  msg?: string;
  obj: object;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('lease keeper thread', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(leaseMs: number): Promise<{ backend: SqliteBackend; task: ClaimedTask; leaseUntil(): number }> {
    const dir = mkdtempSync(join(tmpdir(), 'errand-lease-'));
    const filename = join(dir, 'db.sqlite');
    const backend = new SqliteBackend({ filename, resultTtlMs: 60_000, deadLetterLimit: 10 });
    const reader = new Database(filename, { readonly: true });
    cleanups.push(async () => {
      reader.close();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const at = Date.now();
    await backend.enqueue({ id: randomUUID(), name: 'n', queue: 'default', payload: '[]', enqueuedAt: at, runAt: at });
    const [task] = await backend.claim({ workerId: 'w', queues: ['default'], limit: 1, leaseMs, waitMs: 0 });
    const read = reader.prepare<[string], number>('SELECT lease_until FROM tasks WHERE id = ?').pluck();
    return { backend, task: task!, leaseUntil: () => read.get(task!.id)! };
  }

  interface KeeperOptions {
    spec?: BackendSpec;
    stallLimitMs?: number;
    logger?: Logger;
    onLost?: LeaseKeeperOptions['onLost'];
  }

  function keeper(backend: SqliteBackend, { spec, ...options }: KeeperOptions) {
    const k = new ThreadLeaseKeeper(backend, spec ?? backend.spec!, {
      leaseMs: 300,
      stallLimitMs: 60_000,
      onLost: () => {},
      onError: () => {},
      logger: recordingLogger([]),
      ...options,
    });
    cleanups.push(() => k.stop());
    return k;
  }

  it('keeps a lease alive while the event loop is blocked for several lease lengths', async () => {
    const { backend, task, leaseUntil } = await setup(300);
    const k = keeper(backend, {});
    await k.start(); // returns before the thread is ready: it boots while this loop is blocked
    k.add(task);
    await null; // the worker starts handlers a microtask after add(), as here
    blockFor(1500);
    // Read before any timer of this thread could run: only the lease thread renewed it.
    expect(leaseUntil()).toBeGreaterThan(Date.now());
  });

  it('posts the leases of a whole claim batch in one message, with the ends since the last one, and none for a delivery that ended at once', async () => {
    const { backend, task } = await setup(300);
    const k = keeper(backend, {});
    await k.start();
    await k.ready;
    const posted: unknown[] = [];
    const thread = (k as unknown as { thread: { postMessage(m: unknown): void } }).thread;
    const post = thread.postMessage.bind(thread);
    thread.postMessage = (message) => {
      posted.push(message);
      post(message);
    };
    // ids of their own (a suffix swap could collide with the task's own last character)
    const others = [2, 3].map(() => ({ ...task, id: randomUUID() }));
    k.add(task);
    for (const other of others) k.add(other);
    k.remove(others[1]!.id); // finished before the batch was posted: the thread never hears of it
    await null;
    expect(posted).toEqual([
      { type: 'leases', add: [task, others[0]!].map(({ id, workerId, attempt }) => ({ id, workerId, attempt })), remove: [] },
    ]);
    k.remove(task.id);
    k.remove(others[0]!.id);
    await null;
    expect(posted).toHaveLength(1); // ends ride with the next batch or beat
    const next = { ...task, id: randomUUID() };
    k.add(next);
    await null;
    expect(posted.at(-1)).toEqual({
      type: 'leases',
      add: [{ id: next.id, workerId: next.workerId, attempt: next.attempt }],
      remove: [task.id, others[0]!.id],
    });
  });

  it('stops renewing once the loop has been blocked past the stall limit, and says so', async () => {
    const { backend, task, leaseUntil } = await setup(300);
    const lines: LogLine[] = [];
    const k = keeper(backend, { stallLimitMs: 400, logger: recordingLogger(lines) });
    await k.start();
    await k.ready;
    k.add(task);
    await null;
    blockFor(1500);
    expect(leaseUntil()).toBeLessThan(Date.now());
    await waitFor(() => lines.some((l) => l.level === 'error' && /event loop is blocked/.test(l.msg ?? '')), 2000, 'stall log');
  });

  it('reports a lease lost to a revoke', async () => {
    const { backend, task } = await setup(300);
    const lost: string[][] = [];
    const k = keeper(backend, { onLost: (ids) => lost.push(ids) });
    await k.start();
    k.add(task);
    await backend.revoke(task.id);
    await waitFor(() => lost.length > 0, 3000, 'lost lease');
    expect(lost).toEqual([[task.id]]);
  });

  it('falls back to the event loop when the thread cannot open the broker', async () => {
    const { backend, task, leaseUntil } = await setup(300);
    const lines: LogLine[] = [];
    const spec = { module: new URL('./no-such-module.js', import.meta.url).href, options: {} };
    const k = keeper(backend, { spec, logger: recordingLogger(lines) });
    await k.start();
    await k.ready;
    expect(lines.some((l) => l.level === 'warn' && /renewing leases on the event loop/.test(l.msg ?? ''))).toBe(true);
    k.add(task);
    const before = leaseUntil();
    await delay(400);
    expect(leaseUntil()).toBeGreaterThan(before);
  });
});
