import { describe, expect, it } from 'vitest';
import { decodeStateRecord, ownerToken } from '../../../src/backends/redis/codec.js';
import { describeRedis, uniquePrefix } from '../../support/redis.js';
import { claimReq, newTask, useBackends, withClient } from './helpers.js';

describe('decodeStateRecord', () => {
  it('reads the compact layout: one-letter state, times after runAt, owner token', () => {
    expect(decodeStateRecord('s|2|1|0|1000|5||30005|abc|def')).toEqual({
      state: 'STARTED',
      version: 2,
      attempts: 1,
      retries: 0,
      runAt: 1000,
      startedAt: 1005,
      finishedAt: undefined,
      leaseUntil: 31005,
      owner: 'abc|def',
    });
    expect(decodeStateRecord('k|3|1|0|1000|-2|7||')?.finishedAt).toBe(1007);
  });

  it('reads the older layout: full state names and absolute times', () => {
    expect(decodeStateRecord('SUCCESS|3|1|0|1000|1005|1007||')).toMatchObject({
      state: 'SUCCESS',
      startedAt: 1005,
      finishedAt: 1007,
      owner: '',
    });
  });

  it('refuses what is not a state record', () => {
    for (const m of ['garbage', 'q|1|0|0|1000||||', 'p|x|0|0|1000||||', 'p|1|0|0|1000|soon|||', 'PENDING|1|0']) {
      expect(decodeStateRecord(m)).toBeUndefined();
    }
  });

  it('ownerToken is 12 characters, the same for the same id', () => {
    expect(ownerToken('host:1:abc')).toHaveLength(12);
    expect(ownerToken('host:1:abc')).toBe(ownerToken('host:1:abc'));
    expect(ownerToken('host:1:abc')).not.toBe(ownerToken('host:1:abd'));
  });
});

describeRedis('task hash encoding', () => {
  const backends = useBackends();

  it('a running task of a worker with a long id, and the finished task, stay listpacks with m and j under 64 bytes', async () => {
    const prefix = uniquePrefix('encoding');
    const b = backends.make({ prefix });
    const task = newTask({ name: 'webhooks.process_notification', queue: 'default' });
    await b.enqueue(task);
    const key = `{${prefix}}:t:${task.id}`;
    const [claimed] = await b.claim(claimReq(`a-rather-long-kubernetes-pod-name-7d9f8b6c5-x2x9z:${'9'.repeat(7)}:0123abcd`));
    await withClient(async (c) => {
      expect(Buffer.byteLength((await c.hget(key, 'm'))!)).toBeLessThanOrEqual(64);
      expect(Buffer.byteLength((await c.hget(key, 'j'))!)).toBeLessThanOrEqual(64);
      expect(await c.object('ENCODING', key)).toBe('listpack');
    });
    expect(claimed).toMatchObject({ name: task.name, queue: 'default', enqueuedAt: task.enqueuedAt });
    expect(await b.complete(claimed!, '{"ok":true}')).toBe(true);
    await withClient(async (c) => {
      expect(await c.object('ENCODING', key)).toBe('listpack');
    });
    expect(await b.getInfo(task.id)).toMatchObject({
      state: 'SUCCESS',
      attempts: 1,
      result: { ok: true },
      name: task.name,
      enqueuedAt: task.enqueuedAt,
    });
  });

  it('a record in the older layout (full state names, absolute times, the enqueue time in j) is read, claimed and finished', async () => {
    const prefix = uniquePrefix('old-layout');
    const b = backends.make({ prefix });
    const task = newTask();
    await b.enqueue(task);
    const key = `{${prefix}}:t:${task.id}`;
    await withClient(async (c) => {
      await c.hset(key, 'm', `PENDING|1|0|0|${task.runAt}||||`, 'j', `"name":"test.task","queue":"default","enqueuedAt":1234`);
      await c.hdel(key, 'e');
    });
    expect(await b.getInfo(task.id)).toMatchObject({ state: 'PENDING', version: 1, runAt: task.runAt, enqueuedAt: 1234 });
    const [claimed] = await b.claim(claimReq('w1'));
    expect(claimed).toMatchObject({ id: task.id, name: 'test.task', enqueuedAt: 1234 });
    expect(await b.complete(claimed!, '1')).toBe(true);
    const info = await b.getInfo(task.id);
    expect(info).toMatchObject({ state: 'SUCCESS', version: 3, attempts: 1, result: 1 });
    expect(info!.finishedAt).toBeGreaterThanOrEqual(info!.startedAt!);
  });
});
