import { describe, expect, it } from 'vitest';
import type { TagFeedEntry, TaskInfo } from '../../../src/index.js';
import { delay, waitFor } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** Tags on tasks, Backend.readTagFeed and subscribeTag (app.watchTag over them: engine/tag-feeds.ts). */
export function describeTagFeeds(setup: Setup): void {
  describe('tag feeds', () => {
    it('lists tagged tasks with their tags, each once with its latest state, cursors growing', async () => {
      const b = (await setup()).app.backend;
      const a = newTask({ tags: ['user:1'] });
      const both = newTask({ tags: ['user:1', 'team:x'] });
      await b.enqueueMany([a, newTask(), both, newTask({ tags: ['user:2'] })]);
      const page = await b.readTagFeed('user:1', 0, 100);
      expect(page.entries.map((e) => e.info.id)).toEqual([a.id, both.id]);
      expect(page.entries.map((e) => e.info.state)).toEqual(['PENDING', 'PENDING']);
      expect(page.entries[1]!.info.tags).toEqual(['user:1', 'team:x']);
      expect((await b.getInfo(both.id))!.tags).toEqual(['user:1', 'team:x']);
      expect((await b.getInfo(page.entries[0]!.info.id))!.tags).toEqual(['user:1']);
      expect(page.entries[0]!.cursor).toBeGreaterThan(0);
      expect(page.entries[1]!.cursor).toBeGreaterThan(page.entries[0]!.cursor);
      expect(page).toMatchObject({ cursor: page.entries[1]!.cursor, more: false });
      expect((await b.readTagFeed('team:x', 0, 100)).entries.map((e) => e.info.id)).toEqual([both.id]);
      expect(await b.readTagFeed('nobody', 0, 100)).toEqual({ entries: [], cursor: 0, more: false });

      // a change moves the task after the cursor, with its latest state only
      const [claimed] = await b.claim(claimRequest('w1', { limit: 1 }));
      expect(claimed!.id).toBe(a.id);
      expect(await b.recordProgress(claimed!, { current: 1, total: 2 })).toBe(true);
      expect(await b.complete(claimed!, '"done"')).toBe(true);
      const later = await b.readTagFeed('user:1', page.cursor, 100);
      expect(later.entries).toHaveLength(1);
      expect(later.entries[0]!.info).toMatchObject({ id: a.id, state: 'SUCCESS', result: 'done', tags: ['user:1'] });
      expect(later.entries[0]!.cursor).toBeGreaterThan(page.cursor);
      const all = await b.readTagFeed('user:1', 0, 100);
      expect(all.entries.map((e) => [e.info.id, e.info.state])).toEqual([
        [both.id, 'PENDING'],
        [a.id, 'SUCCESS'],
      ]);
      expect(await b.readTagFeed('user:1', later.cursor, 100)).toEqual({ entries: [], cursor: later.cursor, more: false });
    });

    it('pages with limit and more, and a page ends where the next one starts', async () => {
      const b = (await setup()).app.backend;
      const tasks = Array.from({ length: 25 }, () => newTask({ tags: ['bulk'] }));
      await b.enqueueMany(tasks);
      const seen: string[] = [];
      let after = 0;
      let pages = 0;
      for (;;) {
        const page = await b.readTagFeed('bulk', after, 10);
        seen.push(...page.entries.map((e) => e.info.id));
        pages++;
        after = page.cursor;
        if (!page.more) break;
        expect(page.entries).toHaveLength(10);
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(tasks.map((t) => t.id));
    });

    it('subscribers hear every change, in order, with the cursors the feed reads', async () => {
      const env = await setup();
      const b = env.app.backend;
      const heard: TagFeedEntry[] = [];
      const off = await b.subscribeTag('user:7', (entry) => heard.push(entry));
      const t = newTask({ tags: ['user:7'] });
      await b.enqueue(t);
      await b.enqueue(newTask({ tags: ['user:8'] }));
      const claimed = await b.claim(claimRequest('w1', { limit: 5 }));
      expect(claimed).toHaveLength(2);
      const mine = claimed.find((x) => x.id === t.id)!;
      expect(await b.recordProgress(mine, { current: 1 })).toBe(true);
      expect(await b.complete(mine, '1')).toBe(true);
      await waitFor(() => heard.at(-1)?.info.state === 'SUCCESS', 3000);
      expect(heard.map((e) => e.info.state)).toEqual(['PENDING', 'STARTED', 'PROGRESS', 'SUCCESS']);
      expect(heard.every((e) => e.info.id === t.id)).toBe(true);
      expect(heard.map((e) => e.info.version)).toEqual([1, 2, 3, 4]);
      for (let i = 1; i < heard.length; i++) expect(heard[i]!.cursor).toBeGreaterThan(heard[i - 1]!.cursor);
      const page = await b.readTagFeed('user:7', 0, 10);
      expect(page.entries).toEqual([heard.at(-1)]);
      await off();
      expect(
        await b.complete(
          claimed.find((x) => x.id !== t.id)!,
          '1',
        ),
      ).toBe(true);
      await b.enqueue(newTask({ tags: ['user:7'] }));
      await delay(50);
      expect(heard).toHaveLength(4);
    });

    it('another process subscribed to a tag hears changes made here, revoke included', async () => {
      const env = await setup();
      const b = env.app.backend;
      const other = env.otherApp().backend;
      const heard: TaskInfo[] = [];
      const off = await other.subscribeTag('room', (entry) => heard.push(entry.info));
      const t = newTask({ tags: ['room'], runAt: Date.now() + 60_000 });
      await b.enqueue(t);
      await b.revoke(t.id);
      await waitFor(() => heard.length >= 2, 3000);
      expect(heard.map((i) => i.state)).toEqual(['PENDING', 'REVOKED']);
      await off();
    });

    it('leaves out tasks whose result expired', async () => {
      const b = (await setup({ resultTtlMs: 300 })).app.backend;
      const done = newTask({ tags: ['ttl'] });
      const waiting = newTask({ tags: ['ttl'], runAt: Date.now() + 60_000 });
      await b.enqueueMany([done, waiting]);
      const [c] = await b.claim(claimRequest());
      await b.complete(c!, '1');
      expect((await b.readTagFeed('ttl', 0, 10)).entries.map((e) => e.info.id)).toEqual([waiting.id, done.id]);
      await delay(400);
      await b.prune();
      expect((await b.readTagFeed('ttl', 0, 10)).entries.map((e) => e.info.id)).toEqual([waiting.id]);
    });
  });
}
