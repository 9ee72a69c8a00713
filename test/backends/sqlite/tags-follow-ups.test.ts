import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { INIT_SQL } from '../../../src/backends/sqlite/migrations/001-init.js';
import { MIGRATIONS } from '../../../src/backends/sqlite/migrations/index.js';
import type { TagFeedEntry } from '../../../src/core/backend.js';
import { createApp, type Errand } from '../../../src/index.js';
import { expectUnreadableReported, messageLogger } from '../../support/unreadable.js';
import { delay, waitFor } from '../../support/wait.js';
import { BackendPool, claimRequest, newTask } from './helpers.js';

const LATEST = MIGRATIONS.at(-1)!.version;

const pool = new BackendPool();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await pool.cleanup();
});

const followUp = (queue = 'after') => ({ id: randomUUID(), name: 'test.after', queue, payload: '["x"]' });

function count(filename: string, sql: string): number {
  const raw = new Database(filename, { readonly: true });
  try {
    return raw.prepare(sql).pluck().get() as number;
  } finally {
    raw.close();
  }
}

describe('sqlite backend: schema version 2 (tags, follow-ups)', () => {
  it('upgrades a version-1 file in place (to the latest version): its tasks stay readable and untagged, new ones get tags and follow-ups', async () => {
    const filename = pool.newFile();
    mkdirSync(dirname(filename), { recursive: true });
    const v1 = new Database(filename);
    v1.exec(INIT_SQL);
    v1.pragma('user_version = 1');
    const old = randomUUID();
    v1.prepare(
      `INSERT INTO tasks (id, name, queue, state, version, payload, enqueued_at, run_at) VALUES (?, 'test.task', 'q', 'PENDING', 1, '[1]', 1, 1)`,
    ).run(old);
    v1.close();

    const b = pool.open({ filename });
    expect(count(filename, 'PRAGMA user_version')).toBe(LATEST);
    const info = await b.getInfo(old);
    expect(info).toMatchObject({ id: old, state: 'PENDING', version: 1 });
    expect(info).not.toHaveProperty('tags');
    const next = followUp();
    await b.enqueue(newTask({ tags: ['t'], followUp: next }));
    const [claimed] = await b.claim(claimRequest({ limit: 1 }));
    expect(claimed!.id).toBe(old);
    const [tagged] = await b.claim(claimRequest({ limit: 1 }));
    expect(await b.complete(tagged!, '1')).toBe(true);
    expect((await b.getInfo(next.id))?.state).toBe('PENDING');
    expect((await b.readTagFeed('t', 0, 10)).entries.map((e) => e.info.state)).toEqual(['SUCCESS']);
    await b.close();
    // reopening applies nothing again
    pool.open({ filename });
    expect(count(filename, 'PRAGMA user_version')).toBe(LATEST);
  });

  it('an untagged enqueue writes no event and no tag row; a tagged one writes both', async () => {
    const filename = pool.newFile();
    const b = pool.open({ filename });
    await b.enqueue(newTask());
    expect(count(filename, 'SELECT COUNT(*) FROM events')).toBe(0);
    await b.enqueue(newTask({ tags: ['a', 'b'] }));
    expect(count(filename, 'SELECT COUNT(*) FROM events')).toBe(1);
    expect(count(filename, 'SELECT COUNT(*) FROM task_tags')).toBe(2);
    expect((await b.getInfo((await b.readTagFeed('b', 0, 1)).entries[0]!.info.id))!.tags).toEqual(['a', 'b']);
  });

  it('prune deletes the tag rows of the tasks it deletes', async () => {
    const filename = pool.newFile();
    const b = pool.open({ filename, resultTtlMs: 50 });
    await b.enqueueMany([newTask({ tags: ['p', 'q'] }), newTask({ tags: ['p'], runAt: Date.now() + 60_000 })]);
    const [c] = await b.claim(claimRequest({ limit: 1 }));
    await b.complete(c!, '1');
    await delay(80);
    expect(await b.prune()).toBe(1);
    expect(count(filename, 'SELECT COUNT(*) FROM task_tags')).toBe(1);
    expect((await b.readTagFeed('q', 0, 10)).entries).toEqual([]);
  });

  it('readTagFeed pages with limit 0 and negative limits without throwing', async () => {
    const b = pool.open();
    await b.enqueue(newTask({ tags: ['x'] }));
    expect(await b.readTagFeed('x', 0, 0)).toEqual({ entries: [], cursor: 0, more: true });
    expect(await b.readTagFeed('x', 0, -5)).toEqual({ entries: [], cursor: 0, more: true });
  });
});

describe('sqlite backend: tag listeners hear changes in cursor order', () => {
  it("an own change never overtakes another process's older one", async () => {
    const filename = pool.newFile();
    // a slow poll: the other process's commit is not read before our own one
    const here = pool.open({ filename, pollIntervalMs: 1000 });
    const there = pool.open({ filename });
    const heard: TagFeedEntry[] = [];
    await here.subscribeTag('room', (entry) => heard.push(entry));
    const theirs = newTask({ tags: ['room'] });
    const mine = newTask({ tags: ['room'] });
    await there.enqueue(theirs);
    await here.enqueue(mine);
    await waitFor(() => heard.length >= 2, 3000);
    expect(heard.map((e) => e.info.id)).toEqual([theirs.id, mine.id]);
    expect(heard[1]!.cursor).toBeGreaterThan(heard[0]!.cursor);
    const page = await here.readTagFeed('room', 0, 10);
    expect(page.entries).toEqual(heard);
  });

  it('a listener hears each change once, across many interleaved writers', async () => {
    const filename = pool.newFile();
    const here = pool.open({ filename });
    const there = pool.open({ filename });
    const heard: TagFeedEntry[] = [];
    await here.subscribeTag('mix', (entry) => heard.push(entry));
    const tasks = Array.from({ length: 40 }, () => newTask({ tags: ['mix'] }));
    await Promise.all(tasks.map((t, i) => (i % 2 ? here : there).enqueue(t)));
    await waitFor(() => heard.length >= 40, 5000);
    await delay(30);
    expect(heard).toHaveLength(40);
    for (let i = 1; i < heard.length; i++) expect(heard[i]!.cursor).toBeGreaterThan(heard[i - 1]!.cursor);
    expect(new Set(heard.map((e) => e.info.id))).toEqual(new Set(tasks.map((t) => t.id)));
  });
});

describe('sqlite backend: corrupt tags', () => {
  function setup(): { app: Errand; corrupt(id: string, value: unknown): void } {
    const file = join(tmpdir(), `errand-corrupt-tags-${randomUUID()}`, 'errand.db');
    const app = createApp({ broker: `sqlite://${file}`, logger: messageLogger().logger });
    cleanups.push(async () => {
      await app.close();
      rmSync(dirname(file), { recursive: true, force: true });
    });
    return {
      app,
      corrupt(id, value) {
        const db = new Database(file);
        try {
          db.pragma('busy_timeout = 5000');
          expect(db.prepare('UPDATE tasks SET tags = ? WHERE id = ?').run(value, id).changes).toBe(1);
        } finally {
          db.close();
        }
      },
    };
  }

  it.each([
    { what: 'not JSON', value: '["a"' },
    { what: 'not an array', value: '{"a":1}' },
    { what: 'an array of numbers', value: '[1]' },
    { what: 'a blob', value: Buffer.from('["a"]') },
  ])('tags that are $what make the task unreadable, reported with the column', async ({ value }) => {
    const env = setup();
    const echo = env.app.task('corrupt.echo', (_ctx, v: unknown) => v);
    const r = await echo.applyAsync(['x'], { tags: ['t'], countdown: 60 });
    env.corrupt(r.id, value);
    await expectUnreadableReported(env.app, r, 'column tags');
  });
});
