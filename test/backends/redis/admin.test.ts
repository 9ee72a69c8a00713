import { expect, it, vi } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import type { TagFeedEntry } from '../../../src/core/backend.js';
import { describeRedis, uniquePrefix } from '../../support/redis.js';
import { delay, waitFor } from '../../support/wait.js';
import { claimReq, newTask, useBackends, withClient } from './helpers.js';

const error = { type: 'E', message: 'no' };

/** Redis specifics of Backend.admin the conformance suite does not see. */
describeRedis('redis: admin', () => {
  const backends = useBackends();

  it('keeps every key it writes under the prefix’s hash tag', async () => {
    const prefix = uniquePrefix('admin');
    const b = backends.make({ prefix });
    const [failed, waiting, lettered] = [newTask(), newTask({ queue: 'bulk' }), newTask({ queue: 'dl' })];
    await b.enqueueMany([failed, waiting, lettered]);
    await b.fail((await b.claim(claimReq()))[0]!, error);
    await b.deadLetter((await b.claim(claimReq('w1', { queues: ['dl'] })))[0]!, error);
    await b.admin.retryTasks([failed.id]);
    await b.admin.purgeQueue('bulk');
    await b.admin.setQueuePaused('p', true);
    await b.admin.setQueuePaused('p', false);
    await b.admin.setQueuePaused('q', true);
    await b.admin.retryDeadLetters([lettered.id]);
    await b.admin.putRecords('worker', [{ id: 'a', json: '{}' }], 60_000);
    await b.admin.addCounts(Date.now(), { ok: 1 }, 60_000);
    await b.admin.appendLog('actions', '{}', 10);
    await b.admin.overview();
    await b.admin.listTasks({ limit: 10 });
    await withClient(async (c) => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await c.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
        keys.push(...found);
        cursor = next;
      } while (cursor !== '0');
      expect(keys.length).toBeGreaterThan(8);
      for (const key of keys) expect(key.startsWith(`{${prefix}}:`)).toBe(true);
      expect(await c.smembers(`{${prefix}}:paused`)).toEqual(['q']);
    });
  });

  it('listTasks pages through 3,000 tasks (several SCAN batches) once each, newest first', async () => {
    const b = backends.make();
    const t0 = Date.now() - 1_000_000;
    const tasks = Array.from({ length: 3000 }, (_, i) => {
      const at = t0 + Math.floor(i / 7) * 10;
      return newTask({ queue: i % 3 ? 'a' : 'b', enqueuedAt: at, runAt: at });
    });
    await b.enqueueMany(tasks);
    const byNewest = [...tasks].sort((x, y) => y.enqueuedAt - x.enqueuedAt || (x.id < y.id ? 1 : -1)).map((t) => t.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await b.admin.listTasks({ limit: 700, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.next;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(pages).toBe(5);
    expect(seen).toEqual(byNewest);
    expect((await b.admin.listTasks({ queue: 'b', state: 'PENDING', limit: 1000 })).tasks).toHaveLength(1000);
    const { states, queues } = await b.admin.overview();
    expect(states.PENDING).toBe(3000);
    expect(queues.map((q) => [q.queue, q.ready])).toEqual([
      ['a', 2000],
      ['b', 1000],
    ]);
  });

  it('purgeQueue drains more than one script call’s worth of entries, and empties the queue’s lists', async () => {
    const prefix = uniquePrefix('admin');
    const b = backends.make({ prefix });
    const due = Array.from({ length: 1500 }, () => newTask({ queue: 'bulk' }));
    const later = Array.from({ length: 700 }, () => newTask({ queue: 'bulk', runAt: Date.now() + 60_000 }));
    await b.enqueueMany([...due, ...later]);
    expect(await b.admin.purgeQueue('bulk')).toBe(2200);
    expect(await b.countWaiting('bulk')).toBe(0);
    expect((await b.admin.overview()).states.REVOKED).toBe(2200);
    await withClient(async (c) => expect(await c.pttl(`{${prefix}}:t:${due[0]!.id}`)).toBeGreaterThan(0));
  });

  it('a purged task enqueues its follow-up, which a rerun does not enqueue again', async () => {
    const b = backends.make();
    const followUp = { id: `${Date.now()}-follow`, name: 'test.then', queue: 'then', payload: '[1]' };
    const task = newTask({ followUp });
    await b.enqueue(task);
    expect(await b.admin.purgeQueue('default')).toBe(1);
    expect(await b.getInfo(followUp.id)).toMatchObject({ state: 'PENDING', queue: 'then' });
    await b.revoke(followUp.id);
    expect(await b.admin.retryTasks([task.id])).toEqual([task.id]);
    await b.complete((await b.claim(claimReq()))[0]!, '1');
    expect((await b.getInfo(followUp.id))!.state).toBe('REVOKED');
    expect(await b.countWaiting('then')).toBe(1); // the stale entry of the revoked follow-up only
  });

  it('a rerun task no longer expires, and its tag feed hears the purge and the rerun', async () => {
    const b = backends.make({ resultTtlMs: 300 });
    const task = newTask({ tags: ['t'] });
    await b.enqueue(task);
    const heard: TagFeedEntry[] = [];
    await b.subscribeTag('t', (entry) => heard.push(entry));
    await b.admin.purgeQueue('default');
    expect(await b.admin.retryTasks([task.id])).toEqual([task.id]);
    const page = await b.readTagFeed('t', 0, 10);
    expect(page.entries.map((e) => [e.info.id, e.info.state, e.info.version])).toEqual([[task.id, 'PENDING', 3]]);
    await waitFor(() => heard.length >= 2);
    expect(heard.map((e) => e.info.state)).toEqual(['REVOKED', 'PENDING']);
    await delay(450);
    expect((await b.getInfo(task.id))!.state).toBe('PENDING');
  });

  it('a claim waiting on a paused queue does not spin, and wakes when another process resumes the queue', async () => {
    const prefix = uniquePrefix('admin');
    const b = backends.make({ prefix });
    await b.admin.setQueuePaused('held', true);
    const task = newTask({ queue: 'held', runAt: Date.now() - 1000 });
    const later = newTask({ queue: 'held', runAt: Date.now() + 50 });
    await b.enqueueMany([task, later]);
    const claims = vi.spyOn(b as unknown as { claimOnce: () => Promise<unknown> }, 'claimOnce');
    expect(await b.claim(claimReq('w1', { queues: ['held'], waitMs: 400 }))).toEqual([]);
    expect(claims.mock.calls.length).toBeLessThan(5);
    const waiting = b.claim(claimReq('w1', { queues: ['held'], waitMs: 5000 }));
    await delay(150);
    const resumedAt = Date.now();
    await backends.make({ prefix }).admin.setQueuePaused('held', false);
    const claimed = await waiting;
    expect(claimed.map((c) => c.id).sort()).toEqual([task.id, later.id].sort());
    expect(Date.now() - resumedAt).toBeLessThan(1500);
  });

  it('dead letters of an id that needs escaping are found, dropped and retried', async () => {
    const b = backends.make();
    const odd = newTask({ id: 'a"b\\c' });
    await b.enqueue(odd);
    await b.deadLetter((await b.claim(claimReq()))[0]!, error);
    expect((await b.admin.getTask(odd.id))!.deadLettered).toBe(true);
    expect(await b.admin.retryDeadLetters([odd.id])).toEqual([odd.id]);
    expect((await b.admin.getTask(odd.id))!).toMatchObject({ deadLettered: false, info: { state: 'PENDING' } });
    await b.deadLetter((await b.claim(claimReq()))[0]!, error);
    expect(await b.admin.dropDeadLetters([odd.id])).toBe(1);
    expect(await b.listDeadLetters(10)).toEqual([]);
  });

  it('only SCANs this prefix: another prefix’s tasks are not listed', async () => {
    const b = backends.make();
    const other = backends.make();
    await other.enqueue(newTask());
    const mine = newTask();
    await b.enqueue(mine);
    expect((await b.admin.listTasks({ limit: 10 })).tasks.map((t) => t.id)).toEqual([mine.id]);
    expect(b).toBeInstanceOf(RedisBackend);
  });
});
