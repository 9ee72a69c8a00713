import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import type { ClaimedTask } from '../../../src/core/backend.js';
import { describeRedis, uniquePrefix } from '../../support/redis.js';
import { delay } from '../../support/wait.js';
import { claimReq, hasRedisServer, newTask, startPrivateRedis, useBackends, withClient, type PrivateRedis } from './helpers.js';

/**
 * What the conformance cases (test/conformance/priorities.ts) cannot see:
 * where the Redis broker keeps tasks of each priority (lua/common.ts), that
 * priority 0 costs what it cost before priorities, and the lanes a claim
 * batch crosses.
 */
const SEP = '\u0001';

/** Every key of a prefix, without the '{prefix}:' part. */
async function keysOf(prefix: string): Promise<string[]> {
  return withClient(async (c) => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys.map((k) => k.slice(prefix.length + 3)));
    } while (cursor !== '0');
    return found.sort();
  });
}

const ids = (claimed: ClaimedTask[]): string[] => claimed.map((c) => c.id);

describeRedis('redis: priorities', () => {
  const backends = useBackends();

  it('tasks of priority 0 (absent or 0, due now, later or retried) use the ready list and the delayed zset only', async () => {
    const prefix = uniquePrefix('prio');
    const b = backends.make({ prefix });
    const plain = newTask();
    const zero = newTask({ priority: 0 });
    const later = newTask({ runAt: Date.now() + 60_000 });
    await b.enqueueMany([plain, zero, later]);
    expect(await keysOf(prefix)).toEqual(
      ['d:default', 'q:default', `t:${later.id}`, `t:${plain.id}`, `t:${zero.id}`, 'w:default'].sort(),
    );
    await withClient(async (c) => {
      expect(await c.lrange(`{${prefix}}:q:default`, 0, -1)).toEqual([plain.id, zero.id]);
      // the bare id: no priority in the member
      expect(await c.zrange(`{${prefix}}:d:default`, 0, -1)).toEqual([later.id]);
      for (const t of [plain, zero, later]) expect(await c.hexists(`{${prefix}}:t:${t.id}`, 'o')).toBe(0);
    });
    expect(await b.countWaiting('default')).toBe(3);
    const claimed = await b.claim(claimReq('w1'));
    expect(ids(claimed)).toEqual([plain.id, zero.id]);
    expect(await b.retryLater(claimed[0]!, { type: 'E', message: 'again' }, Date.now())).toBe(true);
    expect(await b.release(claimed[1]!)).toBe(true);
    await withClient(async (c) => {
      expect(await c.lrange(`{${prefix}}:q:default`, 0, -1)).toEqual([plain.id, zero.id]);
    });
    expect((await keysOf(prefix)).filter((k) => k.startsWith('qp:'))).toEqual([]);
  });

  it('a task with a priority has field o, waits in qp:<queue> with the sentinel in d:<queue>, and leaves neither behind', async () => {
    const prefix = uniquePrefix('prio');
    const b = backends.make({ prefix });
    const high = newTask({ priority: 5 });
    const low = newTask({ priority: -3 });
    const plain = newTask();
    const later = newTask({ priority: 7, runAt: Date.now() + 150 });
    await b.enqueueMany([high, low, plain, later]);
    await withClient(async (c) => {
      expect(await c.hget(`{${prefix}}:t:${high.id}`, 'o')).toBe('5');
      expect(await c.hget(`{${prefix}}:t:${low.id}`, 'o')).toBe('-3');
      expect(await c.hexists(`{${prefix}}:t:${plain.id}`, 'o')).toBe(0);
      expect(await c.zrange(`{${prefix}}:qp:default`, 0, -1)).toEqual([high.id, low.id]);
      expect(await c.lrange(`{${prefix}}:q:default`, 0, -1)).toEqual([plain.id]);
      // the sentinel (scored -pushes) and the delayed task's member with its priority
      expect(await c.zrange(`{${prefix}}:d:default`, 0, -1, 'WITHSCORES')).toEqual([
        SEP,
        '-2',
        `${SEP}7${SEP}${later.id}`,
        String(later.runAt),
      ]);
    });
    // the sentinel is no task
    expect(await b.countWaiting('default')).toBe(4);
    await delay(200);
    expect(ids(await b.claim(claimReq('w1')))).toEqual([later.id, high.id, plain.id, low.id]);
    expect(await b.countWaiting('default')).toBe(0);
    const left = await keysOf(prefix);
    expect(left.filter((k) => /^(q|qp|d):/.test(k))).toEqual([]);
  });

  it('mixed priorities across claim batches larger than one: above 0, then the list, then below 0', async () => {
    const prefix = uniquePrefix('prio');
    const b = backends.make({ prefix });
    const [low1, a0, high1, low2, b0, high2, high3] = [-1, 0, 2, -1, undefined, 1, 2].map((priority) =>
      newTask(priority === undefined ? {} : { priority }),
    );
    for (const t of [low1, a0, high1, low2, b0, high2, high3]) await b.enqueue(t!);
    const batches: string[][] = [];
    for (;;) {
      const claimed = await b.claim(claimReq('w1', { limit: 2 }));
      if (claimed.length === 0) break;
      batches.push(ids(claimed));
    }
    // the second batch pops high2 and low1 from the zset and puts low1 back for after the list
    expect(batches).toEqual([[high1!.id, high3!.id], [high2!.id, a0!.id], [b0!.id, low1!.id], [low2!.id]]);
    expect((await keysOf(prefix)).filter((k) => /^(q|qp|d):/.test(k))).toEqual([]);

    // one batch across all three lanes, and a stale (revoked) entry skipped on the way
    const [h, m, l, gone, l2] = [3, 0, -3, 3, -4].map((priority) => newTask({ priority }));
    await b.enqueueMany([h!, m!, l!, gone!, l2!]);
    await b.revoke(gone!.id);
    expect(ids(await b.claim(claimReq('w1', { limit: 3 })))).toEqual([h!.id, m!.id, l!.id]);
    expect(ids(await b.claim(claimReq('w1', { limit: 3 })))).toEqual([l2!.id]);
  });

  it('a rescued, dead-letter-retried or unpaused task keeps its priority; revoke and purge clear the priority zset', async () => {
    const prefix = uniquePrefix('prio');
    const b = backends.make({ prefix });
    const high = newTask({ priority: 4 });
    await b.enqueue(high);
    const [leased] = await b.claim(claimReq('w1', { leaseMs: 1 }));
    await delay(20);
    expect(await b.rescueExpired()).toBe(1);
    const plain = newTask();
    await b.enqueue(plain);
    const [again] = await b.claim(claimReq('w2', { limit: 1 }));
    expect(again?.id).toBe(leased!.id);
    expect(await b.deadLetter(again!, { type: 'E', message: 'dead' })).toBe(true);
    expect(await b.admin.retryDeadLetters([high.id])).toEqual([high.id]);
    await b.admin.setQueuePaused('default', true);
    expect(await b.claim(claimReq('w3'))).toEqual([]);
    await b.admin.setQueuePaused('default', false);
    expect(ids(await b.claim(claimReq('w3')))).toEqual([high.id, plain.id]);

    // retried for later: its delayed member carries the priority, so promotion puts it back in the zset
    const six = newTask({ priority: 6 });
    await b.enqueue(six);
    const [first] = await b.claim(claimReq('w4'));
    const runAt = Date.now() + 60;
    expect(await b.retryLater(first!, { type: 'E', message: 'again' }, runAt)).toBe(true);
    await withClient(async (c) => {
      expect(await c.zrange(`{${prefix}}:d:default`, 0, -1)).toEqual([`${SEP}6${SEP}${six.id}`]);
    });
    const behind = newTask();
    await b.enqueue(behind);
    await delay(100);
    expect(ids(await b.claim(claimReq('w4')))).toEqual([six.id, behind.id]);

    const [p1, p2, p3] = [1, -1, 2].map((priority) => newTask({ priority }));
    const later = newTask({ priority: 9, runAt: Date.now() + 60_000 });
    await b.enqueueMany([p1!, p2!, p3!, later, newTask()]);
    await b.revoke(p1!.id);
    await b.revoke(later.id);
    await withClient(async (c) => {
      expect(await c.zrange(`{${prefix}}:qp:default`, 0, -1)).toEqual([p3!.id, p2!.id]);
      expect(await c.zrange(`{${prefix}}:d:default`, 0, -1)).toEqual([SEP]);
    });
    expect(await b.admin.purgeQueue('default')).toBe(3);
    expect((await keysOf(prefix)).filter((k) => /^(q|qp|d):/.test(k))).toEqual([]);
    expect(await b.countWaiting('default')).toBe(0);
  });

  it('ids that start with the byte the delayed zset uses as a separator stay apart from the sentinel', async () => {
    const prefix = uniquePrefix('prio');
    const b = backends.make({ prefix });
    const runAt = Date.now() + 60;
    const odd = [
      newTask({ id: SEP, runAt }),
      newTask({ id: `${SEP}5${SEP}x`, runAt }),
      newTask({ id: `${SEP}${SEP}`, priority: 2, runAt }),
      newTask({ id: `${SEP}3`, priority: -1 }),
    ];
    await b.enqueueMany(odd);
    await withClient(async (c) => {
      expect((await c.zrange(`{${prefix}}:d:default`, 0, -1)).sort()).toEqual(
        [SEP, `${SEP}0${SEP}${SEP}`, `${SEP}0${SEP}${SEP}5${SEP}x`, `${SEP}2${SEP}${SEP}${SEP}`].sort(),
      );
    });
    expect(await b.countWaiting('default')).toBe(4);
    expect(ids(await b.claim(claimReq('w1')))).toEqual([odd[3]!.id]);
    await delay(100);
    expect(ids(await b.claim(claimReq('w1')))).toEqual([odd[2]!.id, odd[0]!.id, odd[1]!.id]);
    expect((await keysOf(prefix)).filter((k) => /^(q|qp|d):/.test(k))).toEqual([]);
  });

  it('the overview counts tasks with a priority as ready or scheduled like any other', async () => {
    const b = backends.make();
    await b.enqueueMany([
      newTask({ priority: 2 }),
      newTask({ priority: -2 }),
      newTask(),
      newTask({ priority: 1, runAt: Date.now() + 60_000 }),
    ]);
    const overview = await b.admin.overview();
    expect(overview.queues).toEqual([expect.objectContaining({ queue: 'default', ready: 3, scheduled: 1, running: 0 })]);
  });

  it('a garbled field o reads as 0: the task still runs, and goes back to the ready list', async () => {
    const prefix = uniquePrefix('prio');
    const b = backends.make({ prefix });
    const tasks = [newTask({ priority: 5 }), newTask({ priority: 6 }), newTask({ priority: 7 })];
    await b.enqueueMany(tasks);
    // short leases: the third is rescued below
    const claimed = await b.claim(claimReq('w1', { leaseMs: 1 }));
    expect(ids(claimed)).toEqual(tasks.map((t) => t.id).reverse());
    await withClient(async (c) => {
      const key = (i: number): string => `{${prefix}}:t:${tasks[i]!.id}`;
      await c.hset(key(2), 'o', 'high');
      await c.hset(key(1), 'o', '2.5');
      await c.hset(key(0), 'o', '100000');
    });
    expect(await b.release(claimed[0]!)).toBe(true);
    expect(await b.retryLater(claimed[1]!, { type: 'E', message: 'again' }, Date.now() + 50)).toBe(true);
    await delay(10);
    expect(await b.rescueExpired()).toBe(1);
    await withClient(async (c) => {
      expect(await c.lrange(`{${prefix}}:q:default`, 0, -1)).toEqual([tasks[2]!.id, tasks[0]!.id]);
      expect(await c.zrange(`{${prefix}}:d:default`, 0, -1)).toEqual([tasks[1]!.id]);
    });
    await delay(80);
    const again = await b.claim(claimReq('w2'));
    // the retried one promoted behind them, into the list too
    expect(ids(again)).toEqual([tasks[2]!.id, tasks[0]!.id, tasks[1]!.id]);
    expect(again.every((t) => t.undecodable === undefined)).toBe(true);
  });

  it('refuses a priority outside -1000..1000 or not an integer', async () => {
    const b = backends.make();
    await expect(b.enqueue(newTask({ priority: 1001 }))).rejects.toThrow(/priority/);
    await expect(b.enqueueMany([newTask({ priority: 0.5 })])).rejects.toThrow(/priority/);
  });
});

/**
 * Commands Redis runs (INFO commandstats on a private redis-server, every
 * redis.call inside a script counted, plus the script call) for operations on
 * tasks of priority 0: the numbers they were before priorities existed.
 */
describeRedis('redis: priorities cost nothing at priority 0', () => {
  let server: PrivateRedis | undefined;
  beforeAll(async () => {
    if (hasRedisServer()) server = await startPrivateRedis();
  });
  afterAll(async () => {
    await server?.close();
  });

  const total = (counts: Map<string, number>): number => [...counts.values()].reduce((s, n) => s + n, 0);

  it.skipIf(!hasRedisServer())(
    'enqueue, claim, retry, release and rescue cost the same commands as before priorities',
    async () => {
      const b = new RedisBackend({
        url: server!.url,
        prefix: uniquePrefix('prio-count'),
        resultTtlMs: 60_000,
        deadLetterLimit: 10,
      });
      const seen: Record<string, number> = {};
      const priorityCommands = new Set<string>();
      const measure = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
        await server!.commands();
        const out = await op();
        const counts = await server!.commands();
        seen[what] = total(counts);
        for (const name of ['zpopmin', 'zincrby', 'zscore', 'hget'])
          if (counts.has(name)) priorityCommands.add(`${what}: ${name}`);
        return out;
      };
      try {
        // warm up: connection ready, every script loaded (EVALSHA from here on)
        const warm = [newTask(), newTask()];
        await b.enqueueMany(warm);
        const [w1, w2] = await b.claim(claimReq('w', { limit: 2 }));
        await b.retryLater(w1!, { type: 'E', message: 'x' }, Date.now());
        await b.release(w2!);
        await b.rescueExpired();
        for (const t of await b.claim(claimReq('w'))) await b.complete(t, 'null');
        await b.claim(claimReq('w'));

        await measure('enqueue into an empty queue', () => b.enqueue(newTask()));
        await measure('enqueue into a non-empty queue', () => b.enqueue(newTask()));
        await measure('enqueue of a task due later', () => b.enqueue(newTask({ runAt: Date.now() + 100 })));
        await measure('enqueueMany of 10', () => b.enqueueMany(Array.from({ length: 10 }, () => newTask())));
        await measure('claim of 1 (more left)', () => b.claim(claimReq('w', { limit: 1 })));
        const claimed = await measure('claim of 50 (11 there)', () => b.claim(claimReq('w', { limit: 50 })));
        await measure('empty claim (one due later)', () => b.claim(claimReq('w')));
        await measure('empty claim of two queues', () => b.claim(claimReq('w', { queues: ['other', 'default'] })));
        await delay(120);
        await measure('claim of a promoted delayed task', () => b.claim(claimReq('w')));
        await measure('retry due now', () => b.retryLater(claimed[0]!, { type: 'E', message: 'x' }, Date.now()));
        await measure('retry due later', () => b.retryLater(claimed[1]!, { type: 'E', message: 'x' }, Date.now() + 60_000));
        await measure('release', () => b.release(claimed[2]!));
        await measure('revoke of a delayed task', () => b.revoke(claimed[1]!.id));
        await measure('claim of 2 from the second of two queues', () =>
          b.claim(claimReq('w', { queues: ['other', 'default'], limit: 2, leaseMs: 1 })),
        );
        await delay(10);
        await measure('rescue of 2', () => b.rescueExpired());
        await measure('countWaiting', () => b.countWaiting('default'));
      } finally {
        await b.close();
      }
      expect(priorityCommands).toEqual(new Set());
      // the same operations on the broker before priorities (measured at the commit before them)
      expect(seen).toEqual({
        'enqueue into an empty queue': 4,
        'enqueue into a non-empty queue': 3,
        'enqueue of a task due later': 5,
        'enqueueMany of 10': 12,
        'claim of 1 (more left)': 10,
        'claim of 50 (11 there)': 39,
        'empty claim (one due later)': 6,
        'empty claim of two queues': 10,
        'claim of a promoted delayed task': 12,
        'retry due now': 7,
        'retry due later': 8,
        release: 6,
        'revoke of a delayed task': 6,
        'claim of 2 from the second of two queues': 16,
        'rescue of 2': 13,
        // MULTI, LLEN, ZCARD, EXEC before; now one ZCARD more (the priority zset)
        countWaiting: 5,
      });
    },
  );
});
