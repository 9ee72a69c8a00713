import { describe, expect, it } from 'vitest';
import type { TagFeedEntry } from '../../../src/index.js';
import type { Setup } from '../seam.js';

/** app.watchTag over the broker's tag feed, and the tags applyAsync accepts (the feed itself: backend/tag-feeds.ts). */
export function describeTagFeeds(setup: Setup): void {
  describe('tag feeds', () => {
    it('app.watchTag yields what the feed holds after the cursor, then live changes, none twice', async () => {
      const env = await setup();
      await env.worker();
      const first = await env.tasks.add.applyAsync([1, 2], { tags: ['user:42'] });
      await first.get({ timeout: 5000 });
      const controller = new AbortController();
      const seen: TagFeedEntry[] = [];
      const watching = (async () => {
        for await (const entry of env.app.watchTag('user:42', { signal: controller.signal })) {
          seen.push(entry);
          if (entry.info.id !== first.id && entry.info.state === 'SUCCESS') controller.abort();
        }
      })();
      const second = await env.otherApp().sendTask('conf.add', [3, 4], { tags: ['user:42', 'other'] });
      await watching;
      expect(seen[0]!.info).toMatchObject({ id: first.id, state: 'SUCCESS', result: 3 });
      const mine = seen.filter((e) => e.info.id === second.id);
      expect(mine.at(-1)!.info).toMatchObject({ state: 'SUCCESS', result: 7, tags: ['user:42', 'other'] });
      const versions = mine.map((e) => e.info.version);
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
      expect(new Set(seen.map((e) => e.cursor)).size).toBe(seen.length);
      // resuming after a cursor yields only later changes
      const resumed: TagFeedEntry[] = [];
      const again = new AbortController();
      setTimeout(() => again.abort(), 300);
      for await (const entry of env.app.watchTag('user:42', { after: seen[0]!.cursor, signal: again.signal }))
        resumed.push(entry);
      expect(resumed.map((e) => e.info.id)).toEqual([second.id]);
    });

    it('applyAsync refuses bad tags with a ConfigError and stores nothing', async () => {
      const env = await setup();
      await expect(env.tasks.add.applyAsync([1, 2], { tags: [''] })).rejects.toThrow(/tag/);
      await expect(env.tasks.add.applyAsync([1, 2], { tags: ['x'.repeat(129)] })).rejects.toThrow(/128/);
      await expect(env.tasks.add.applyAsync([1, 2], { tags: Array.from({ length: 17 }, (_, i) => `t${i}`) })).rejects.toThrow(
        /16/,
      );
      await expect(env.tasks.add.applyAsync([1, 2], { tags: 'user:1' as unknown as string[] })).rejects.toThrow(/array/);
      expect(await env.app.backend.countWaiting('default')).toBe(0);
      const r = await env.tasks.add.applyAsync([1, 2], { tags: ['a', 'a', 'b'] });
      expect((await r.info())!.tags).toEqual(['a', 'b']);
    });
  });
}
