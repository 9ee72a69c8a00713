import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { TagFeedEntry } from '../../../src/core/backend.js';
import { describeRedis, uniquePrefix } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';
import { claimReq, newTask, useBackends, withClient } from './helpers.js';

/** Redis specifics of tag feeds and follow-ups the conformance suite does not see. */
describeRedis('redis: tag feeds and follow-ups', () => {
  const backends = useBackends();

  it('a tag zset expires after resultTtlMs, or that long after a later due time', async () => {
    const prefix = uniquePrefix('tags');
    const b = backends.make({ prefix, resultTtlMs: 60_000 });
    await b.enqueue(newTask({ tags: ['now'] }));
    await b.enqueue(newTask({ tags: ['later'], runAt: Date.now() + 600_000 }));
    await withClient(async (c) => {
      const now = await c.pttl(`{${prefix}}:tz:now`);
      expect(now).toBeGreaterThan(50_000);
      expect(now).toBeLessThanOrEqual(60_000);
      expect(await c.pttl(`{${prefix}}:tz:later`)).toBeGreaterThan(600_000);
      // an untagged task writes no tag keys
      expect(await c.exists(`{${prefix}}:tz:`)).toBe(0);
    });
  });

  it('drops ids whose task hash is gone and still fills the page', async () => {
    const prefix = uniquePrefix('tags');
    const b = backends.make({ prefix });
    const tasks = Array.from({ length: 6 }, () => newTask({ tags: ['t'] }));
    await b.enqueueMany(tasks);
    await withClient((c) => c.del(`{${prefix}}:t:${tasks[1]!.id}`, `{${prefix}}:t:${tasks[2]!.id}`));
    const page = await b.readTagFeed('t', 0, 3);
    expect(page.entries.map((e) => e.info.id)).toEqual([tasks[0]!.id, tasks[3]!.id, tasks[4]!.id]);
    expect(page.more).toBe(true);
    await withClient(async (c) => expect(await c.zcard(`{${prefix}}:tz:t`)).toBe(4));
  });

  it('garbage in the follow-up field or the tags stalls no script and no neighbour', async () => {
    const prefix = uniquePrefix('tags');
    const b = backends.make({ prefix });
    const badFollowUp = newTask({ followUp: { id: randomUUID(), name: 'n', queue: 'after', payload: '[]' } });
    const badTags = newTask({ tags: ['x'] });
    const good = newTask({ tags: ['x'] });
    await b.enqueueMany([badFollowUp, badTags, good]);
    await withClient(async (c) => {
      await c.hset(`{${prefix}}:t:${badFollowUp.id}`, 'u', '{"id":');
      await c.hset(`{${prefix}}:t:${badTags.id}`, 'j', `"name":"test.task","queue":"default","enqueuedAt":1,"tags":[1]`);
    });
    const claimed = await b.claim(claimReq('w1'));
    expect(claimed.map((c) => c.id)).toEqual([badFollowUp.id, badTags.id, good.id]);
    expect(claimed[1]!.undecodable).toMatch(/field j/);
    expect(claimed[2]!.undecodable).toBeUndefined();
    expect(await Promise.all(claimed.map((c) => b.complete(c, '1')))).toEqual([true, true, true]);
    expect(await b.claim(claimReq('w2', { queues: ['after'] }))).toEqual([]);
    expect(await b.getInfo(badTags.id)).toMatchObject({ state: 'FAILURE', error: { type: 'DecodeError' } });
    const feed = await b.readTagFeed('x', 0, 10);
    expect(feed.entries.map((e) => [e.info.id, e.info.state])).toEqual([
      [badTags.id, 'FAILURE'],
      [good.id, 'SUCCESS'],
    ]);
  });

  it('after the subscriber connection drops, a listener gets what changed meanwhile, in cursor order, once', async () => {
    const b = backends.make();
    const heard: TagFeedEntry[] = [];
    await b.subscribeTag('r', (e) => heard.push(e));
    const t = newTask({ tags: ['r'] });
    await b.enqueue(t);
    await waitFor(() => heard.length === 1, 3000);
    // only this backend's subscriber: other tests share the server
    const killed = await withClient(async (c) => {
      const list = String(await c.client('LIST'));
      let n = 0;
      for (const m of list.matchAll(/id=(\d+) .*name=errand:sub:(\w+)/g)) {
        if (m[2] === b.instanceId) n += Number(await c.client('KILL', 'ID', m[1]!));
      }
      return n;
    });
    expect(killed).toBe(1);
    // changed while the listener may be disconnected
    const [claimed] = await b.claim(claimReq('w1'));
    await b.complete(claimed!, '1');
    await waitFor(() => heard.at(-1)?.info.state === 'SUCCESS', 5000);
    for (let i = 1; i < heard.length; i++) expect(heard[i]!.cursor).toBeGreaterThan(heard[i - 1]!.cursor);
    expect(heard[0]!.info.state).toBe('PENDING');
    const later = newTask({ tags: ['r'] });
    await b.enqueue(later);
    await waitFor(() => heard.at(-1)?.info.id === later.id, 5000);
  });
});
