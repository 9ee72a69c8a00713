import { expect, it } from 'vitest';
import { describeRedis, uniquePrefix } from '../../support/redis.js';
import { claimReq, newTask, useBackends, withClient } from './helpers.js';

/**
 * What the conformance cases (test/conformance/flow-control.ts, rate-limits.ts)
 * cannot see: where the Redis broker keeps flow-controlled tasks (lua/common.ts),
 * that plain tasks never touch those keys, and that purgeQueue sees the tasks
 * waiting in groups.
 */
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

describeRedis('redis: flow control', () => {
  const backends = useBackends();

  it('plain tasks use no flow-control key and no field g', async () => {
    const prefix = uniquePrefix('flow');
    const b = backends.make({ prefix });
    const plain = newTask();
    await b.enqueue(plain);
    const [claimed] = await b.claim(claimReq());
    await b.complete(claimed!, '1');
    const keys = await keysOf(prefix);
    expect(keys.filter((k) => /^f[lrnkzhw]:/.test(k))).toEqual([]);
    expect(await withClient((c) => c.hexists(`{${prefix}}:t:${plain.id}`, 'g'))).toBe(0);
  });

  it('countWaiting counts the tasks waiting in groups too (an upper bound, never an undercount)', async () => {
    const b = backends.make({ prefix: uniquePrefix('flow') });
    await b.enqueueMany([
      newTask({ group: 'a' }),
      newTask({ group: 'a' }),
      newTask({ group: 'b' }),
      newTask(),
      newTask({ priority: 5 }),
    ]);
    const counted = await b.countWaiting('default');
    // the flow sentinel in the delayed set may count as one
    expect(counted).toBeGreaterThanOrEqual(5);
    expect(counted).toBeLessThanOrEqual(6);
    await b.claim(claimReq('w1', { limit: 10 }));
    expect(await b.countWaiting('default')).toBeLessThanOrEqual(1);
  });

  it('purgeQueue revokes the tasks waiting in groups', async () => {
    const prefix = uniquePrefix('flow');
    const b = backends.make({ prefix });
    await b.enqueueMany([
      newTask({ group: 'a' }),
      newTask({ group: 'a' }),
      newTask({ group: 'b', limits: [{ key: 'k', limit: 1 }] }),
      newTask(),
    ]);
    expect(await b.admin!.purgeQueue('default')).toBe(4);
    expect(await b.claim(claimReq())).toHaveLength(0);
    expect((await keysOf(prefix)).filter((k) => /^f[lr]:/.test(k))).toEqual([]);
  });

  it('a running counter goes back to nothing when its tasks finish', async () => {
    const prefix = uniquePrefix('flow');
    const b = backends.make({ prefix });
    await b.enqueueMany([newTask({ limits: [{ key: 'k', limit: 2 }] }), newTask({ limits: [{ key: 'k', limit: 2 }] })]);
    const claimed = await b.claim(claimReq());
    expect(claimed).toHaveLength(2);
    expect(await withClient((c) => c.get(`{${prefix}}:fk:k`))).toBe('2');
    for (const t of claimed) await b.complete(t, '1');
    expect(await withClient((c) => c.exists(`{${prefix}}:fk:k`))).toBe(0);
  });
});
