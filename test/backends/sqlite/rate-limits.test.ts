import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/backends/sqlite/migrations/index.js';
import { BackendPool, claimRequest, fileAtVersion, newTask, raw } from './helpers.js';

const pool = new BackendPool();
afterEach(() => pool.cleanup());

describe('sqlite backend: rate limits (schema version 5)', () => {
  it('upgrades a version-4 file in place: its tasks stay and run, and rate limits work', async () => {
    const kept = randomUUID();
    const filename = fileAtVersion(pool, 4, (db) => {
      db.prepare(
        `INSERT INTO tasks (id, name, queue, state, version, payload, enqueued_at, run_at) VALUES (?, 'test.task', 'q', 'PENDING', 1, '[1]', 1, 1)`,
      ).run(kept);
    });
    const b = pool.open({ filename });
    expect(raw(filename, (db) => db.pragma('user_version', { simple: true }))).toBe(MIGRATIONS.at(-1)!.version);
    await b.enqueueMany([
      newTask({ rateLimits: [{ key: 'k', limit: 1, perMs: 60_000 }] }),
      newTask({ rateLimits: [{ key: 'k', limit: 1, perMs: 60_000 }] }),
    ]);
    expect((await b.claim(claimRequest())).map((c) => c.id)).toContain(kept);
    expect(await b.claim(claimRequest())).toEqual([]);
  });

  it('plain tasks never touch rate_keys; a claim keeps at most the largest limit of hits, and prune drops idle keys', async () => {
    const filename = pool.newFile();
    const b = pool.open({ filename });
    await b.enqueueMany(Array.from({ length: 5 }, () => newTask()));
    expect(await b.claim(claimRequest())).toHaveLength(5);
    expect(raw(filename, (db) => db.prepare('SELECT COUNT(*) AS n FROM rate_keys').get())).toEqual({ n: 0 });
    await b.enqueueMany(Array.from({ length: 5 }, () => newTask({ rateLimits: [{ key: 'short', limit: 3, perMs: 50 }] })));
    expect(await b.claim(claimRequest())).toHaveLength(3);
    const row = raw(filename, (db) => db.prepare(`SELECT hits, keep_n FROM rate_keys WHERE key = 'short'`).get()) as {
      hits: string;
      keep_n: number;
    };
    expect(JSON.parse(row.hits)).toHaveLength(3);
    expect(row.keep_n).toBe(3);
    await new Promise((r) => setTimeout(r, 80));
    await b.prune();
    expect(raw(filename, (db) => db.prepare('SELECT COUNT(*) AS n FROM rate_keys').get())).toEqual({ n: 0 });
    // pruned state is no state: the window is over anyway
    expect(await b.claim(claimRequest())).toHaveLength(2);
  });

  it('a hold outlives its window in the table until it ends', async () => {
    const filename = pool.newFile();
    const b = pool.open({ filename });
    await b.enqueue(newTask({ rateLimits: [{ key: 'h', limit: 10, perMs: 10 }] }));
    const [task] = await b.claim(claimRequest());
    expect(await b.holdRateLimit(task!, Date.now() + 60_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    await b.prune();
    expect(raw(filename, (db) => db.prepare(`SELECT COUNT(*) AS n FROM rate_keys WHERE key = 'h'`).get())).toEqual({ n: 1 });
    expect(await b.claim(claimRequest())).toEqual([]);
  });
});
