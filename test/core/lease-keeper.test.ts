import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendSpec, ClaimedTask } from '../../src/core/backend.js';
import type { Worker as Thread } from 'node:worker_threads';
import type { LeaseKeeperOptions } from '../../src/core/leases/lease-keeper.js';
import type { LeaseTable } from '../../src/core/leases/lease-table.js';
import type { ToLeaseThread } from '../../src/core/leases/thread-protocol.js';
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
    capacity?: number;
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

  /** Records what the keeper posts to its thread. */
  function spyPosts(k: ThreadLeaseKeeper): ToLeaseThread[] {
    const posted: ToLeaseThread[] = [];
    const thread = (k as unknown as { thread: Thread }).thread;
    const post = thread.postMessage.bind(thread);
    thread.postMessage = (message: ToLeaseThread) => {
      posted.push(message);
      post(message);
    };
    return posted;
  }

  const deliveryOf = ({ id, workerId, attempt }: ClaimedTask) => ({ id, workerId, attempt });

  it('writes the deliveries into the shared table: no message for adds and removes', async () => {
    const { backend, task } = await setup(300);
    const k = keeper(backend, {});
    await k.start();
    await k.ready;
    const posted = spyPosts(k);
    const others = [2, 3].map(() => ({ ...task, id: randomUUID() }));
    k.add(task);
    for (const other of others) k.add(other);
    k.remove(others[1]!.id);
    await delay(250); // a beat or two
    k.remove(task.id);
    k.remove(others[0]!.id);
    await delay(250);
    expect(posted).toEqual([]);
  });

  it('posts the deliveries the table cannot hold (full, or ids too long) once per batch, with the ends since the last one', async () => {
    const { backend, task } = await setup(300);
    const k = keeper(backend, { capacity: 2 });
    await k.start();
    await k.ready;
    const posted = spyPosts(k);
    const other = () => ({ ...task, id: randomUUID() });
    const long = { ...task, id: `long-${'x'.repeat(300)}` };
    const [first, second, third] = [other(), other(), other()];
    k.add(task); // slot 1 of 2
    k.add(long); // too long for a slot
    k.add(first!); // slot 2 of 2
    k.add(second!); // the table is full
    k.add(third!);
    k.remove(third!.id); // ended before the batch was posted: the thread never hears of it
    await null;
    expect(posted).toEqual([{ type: 'leases', add: [deliveryOf(long), deliveryOf(second!)], remove: [] }]);
    k.remove(task.id); // frees a slot, no message
    k.remove(second!.id); // rides with the next message
    await null;
    expect(posted).toHaveLength(1);
    k.add(other()); // takes the freed slot
    await null;
    expect(posted).toHaveLength(1);
    const overflow = other();
    k.add(overflow);
    await null;
    expect(posted.at(-1)).toEqual({ type: 'leases', add: [deliveryOf(overflow)], remove: [second!.id] });
  });

  it('keeps a posted lease alive too while the event loop is blocked', async () => {
    const { backend, task, leaseUntil } = await setup(300);
    const k = keeper(backend, { capacity: 0 }); // every delivery goes by message
    await k.start();
    await k.ready;
    k.add(task);
    await null;
    blockFor(1500);
    expect(leaseUntil()).toBeGreaterThan(Date.now());
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
    expect((k as unknown as { table: LeaseTable }).table.size).toBe(0); // its slot is free again
  });

  it('a lease the thread finds lost frees its slot and is reported once', async () => {
    const { backend, task } = await setup(300);
    const lost: string[][] = [];
    const k = keeper(backend, { onLost: (ids) => lost.push(ids) });
    await k.start();
    await k.ready; // the interim keeper on the loop has ended: only the thread renews
    k.add(task);
    await backend.revoke(task.id);
    await waitFor(() => lost.length > 0, 3000, 'lost lease');
    expect((k as unknown as { table: LeaseTable }).table.size).toBe(0);
    await delay(400); // a few more renewals
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

  it('renews on the event loop once the thread dies', async () => {
    const { backend, task, leaseUntil } = await setup(300);
    const lines: LogLine[] = [];
    const k = keeper(backend, { logger: recordingLogger(lines) });
    await k.start();
    await k.ready;
    k.add(task);
    await (k as unknown as { thread: Thread }).thread.terminate();
    await waitFor(() => lines.some((l) => l.level === 'error' && /lease thread exited/.test(l.msg ?? '')), 2000, 'exit log');
    const before = leaseUntil();
    await delay(400);
    expect(leaseUntil()).toBeGreaterThan(before);
  });
});
