import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker as Thread } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { leaseThreadProbe } from '../../src/core/leases/thread-lease-keeper.js';
import type { FromLeaseThread, ToLeaseThread } from '../../src/core/leases/thread-protocol.js';
import { createApp } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

const LEASE_MS = 300;

/** Watches the next lease thread spawned: what is posted to it, and whether it renews yet. */
function watchLeaseThread(): { posted: ToLeaseThread[]; ready: () => boolean } {
  const posted: ToLeaseThread[] = [];
  let ready = false;
  leaseThreadProbe.spawned = (thread: Thread) => {
    const post = thread.postMessage.bind(thread);
    thread.postMessage = (message: ToLeaseThread) => {
      posted.push(message);
      post(message);
    };
    thread.on('message', (message: FromLeaseThread) => {
      if (message.type === 'ready') ready = true;
    });
  };
  return { posted, ready: () => ready };
}

describe('worker and lease thread', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    leaseThreadProbe.spawned = undefined;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('posts no lease message for 200 short tasks, and the thread still renews a task that blocks the loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'errand-lease-table-'));
    const filename = join(dir, 'errand.db');
    const app = createApp({ broker: `sqlite://${filename}`, logger: false });
    cleanups.push(async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const short = app.task('short', (_ctx, n: number) => n);
    // Reads its lease at the end of the loop, before any timer of this thread could run: only the lease thread renewed it.
    let leaseAfterBlock: { leaseUntil: number; now: number } | undefined;
    const block = app.task('block', (ctx, ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        // busy: no timer, no I/O runs
      }
      const reader = new Database(filename, { readonly: true });
      try {
        const leaseUntil = reader.prepare<[string], number>('SELECT lease_until FROM tasks WHERE id = ?').pluck().get(ctx.id)!;
        leaseAfterBlock = { leaseUntil, now: Date.now() };
      } finally {
        reader.close();
      }
      return 'done';
    });
    const thread = watchLeaseThread();
    const worker = app.worker({ concurrency: 1, leaseMs: LEASE_MS, handleSignals: false, report: false });
    await worker.start();
    await waitFor(thread.ready, 15_000, 'the lease thread');

    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => short.delay(i)));
    expect(await Promise.all(results.map((r) => r.get({ timeout: 30_000 })))).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const blocked = await block.delay(3 * LEASE_MS);
    expect(await blocked.get({ timeout: 20_000 })).toBe('done');

    expect(leaseAfterBlock!.leaseUntil).toBeGreaterThan(leaseAfterBlock!.now);
    expect(await blocked.info()).toMatchObject({ state: 'SUCCESS', attempts: 1 });
    expect(thread.posted.filter((message) => message.type === 'leases')).toEqual([]);
    await worker.stop();
  });
});
