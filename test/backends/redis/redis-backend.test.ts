import { expect, it } from 'vitest';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { BrokerError, ClosedError, ConfigError } from '../../../src/core/errors.js';
import type { TaskInfo } from '../../../src/core/types.js';
import { describeRedis, uniquePrefix } from '../../support/redis.js';
import { delay, waitFor } from '../../support/wait.js';
import { claimReq, newTask, useBackends, withClient } from './helpers.js';

describeRedis('redis backend', () => {
  const backends = useBackends();

  it('reports its kind and capabilities and refuses a bad prefix', () => {
    const b = backends.make();
    expect(b.kind).toBe('redis');
    expect(b.capabilities).toEqual({
      crossProcess: true,
      durable: true,
      flowControl: true,
      rateLimits: true,
      debounce: true,
      aging: true,
      wake: true,
    });
    expect(() => new RedisBackend({ url: 'redis://x', prefix: 'a{b}', resultTtlMs: 1, deadLetterLimit: 1 })).toThrow(ConfigError);
  });

  it('coalesces concurrent acks and answers each one', async () => {
    const b = backends.make();
    const tasks = Array.from({ length: 60 }, () => newTask());
    await b.enqueueMany(tasks);
    const claimed = [...(await b.claim(claimReq('w'))), ...(await b.claim(claimReq('w')))];
    const recorded = await Promise.all(
      claimed.map((c, i) => (i % 3 === 0 ? b.fail(c, { type: 'Boom', message: `m${i}` }) : b.complete(c, JSON.stringify({ i })))),
    );
    expect(recorded.every(Boolean)).toBe(true);
    const infos = await Promise.all(claimed.map((c) => b.getInfo(c.id)));
    infos.forEach((info, i) => {
      if (i % 3 === 0) expect(info).toMatchObject({ state: 'FAILURE', error: { type: 'Boom', message: `m${i}` }, version: 3 });
      else expect(info).toMatchObject({ state: 'SUCCESS', result: { i }, version: 3 });
    });
  });

  it('maps an idempotency key to its task while the task is known', async () => {
    const prefix = uniquePrefix();
    const b = backends.make({ prefix, resultTtlMs: 200 });
    const first = newTask({ idempotencyKey: 'order-1' });
    expect(await b.enqueue(first)).toEqual({ id: first.id, created: true });
    expect(await b.enqueue(newTask({ idempotencyKey: 'order-1' }))).toEqual({ id: first.id, created: false });
    const batch = await b.enqueueMany([newTask({ idempotencyKey: 'order-2' }), newTask({ idempotencyKey: 'order-2' })]);
    expect(batch[1]).toEqual({ id: batch[0]!.id, created: false });
    // an empty key is a key too (as in the memory adapter)
    const empty = await b.enqueueMany([newTask({ idempotencyKey: '' }), newTask({ idempotencyKey: '' }), newTask()]);
    expect(empty.map((e) => e.created)).toEqual([true, false, true]);
    expect(empty[1]!.id).toBe(empty[0]!.id);
    await withClient(async (c) => expect(await c.pttl(`{${prefix}}:i:order-1`)).toBe(-1));
    const claimed = await b.claim(claimReq());
    await Promise.all(claimed.map((t) => b.complete(t, 'null')));
    await withClient(async (c) => {
      const ttl = await c.pttl(`{${prefix}}:i:order-1`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(200);
    });
    await delay(300);
    expect(await b.getInfo(first.id)).toBeNull();
    const again = newTask({ idempotencyKey: 'order-1' });
    expect(await b.enqueue(again)).toEqual({ id: again.id, created: true });
  });

  it('finished tasks get a PEXPIRE of resultTtlMs; pending and running ones none', async () => {
    const prefix = uniquePrefix();
    const b = backends.make({ prefix, resultTtlMs: 60_000 });
    const [t1, t2, t3] = [newTask(), newTask(), newTask({ runAt: Date.now() + 60_000 })];
    await b.enqueueMany([t1, t2, t3]);
    const [c1, c2] = await b.claim(claimReq('w', { limit: 2 }));
    await b.complete(c1!, '"x"');
    await withClient(async (c) => {
      const ttl = await c.pttl(`{${prefix}}:t:${t1.id}`);
      expect(ttl).toBeGreaterThan(59_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(await c.pttl(`{${prefix}}:t:${t2.id}`)).toBe(-1);
      expect(await c.pttl(`{${prefix}}:t:${t3.id}`)).toBe(-1);
    });
    await b.revoke(t3.id);
    await b.fail(c2!, { type: 'E', message: 'm' });
    await withClient(async (c) => {
      expect(await c.pttl(`{${prefix}}:t:${t2.id}`)).toBeGreaterThan(59_000);
      expect(await c.pttl(`{${prefix}}:t:${t3.id}`)).toBeGreaterThan(59_000);
      // no leases left behind
      expect(await c.zcard(`{${prefix}}:leases`)).toBe(0);
    });
  });

  it('a claim with limit 0 takes nothing and waits without spinning', async () => {
    const b = backends.make();
    await b.enqueue(newTask());
    const started = Date.now();
    expect(await b.claim(claimReq('w', { limit: 0, waitMs: 200 }))).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(await b.claim(claimReq())).toHaveLength(1);
  });

  it('after the subscriber connection drops, delivers the current state of subscribed ids', async () => {
    const prefix = uniquePrefix();
    const watcher = backends.make({ prefix });
    const worker = backends.make({ prefix });
    const t = newTask();
    await worker.enqueue(t);
    const seen: TaskInfo[] = [];
    await watcher.subscribeStatus(t.id, (i) => seen.push(i));
    const [c] = await worker.claim(claimReq());
    await waitFor(() => seen.length === 1, 2000, 'STARTED');
    await withClient(async (client) => {
      const list = await client.client('LIST');
      const line = String(list)
        .split('\n')
        .find((l) => l.includes(`name=errand:sub:${watcher.instanceId}`));
      expect(line).toBeDefined();
      const id = /id=(\d+)/.exec(line!)![1]!;
      await client.client('KILL', 'ID', id);
    });
    // published while the subscriber is disconnected: lost, then replayed
    await worker.complete(c!, '"done"');
    await waitFor(() => seen.some((s) => s.state === 'SUCCESS'), 5000, 'replayed SUCCESS');
    expect(seen.at(-1)).toMatchObject({ state: 'SUCCESS', version: 3, result: 'done' });
    // and live events flow again
    const t2 = newTask();
    await worker.enqueue(t2);
    const seen2: TaskInfo[] = [];
    await watcher.subscribeStatus(t2.id, (i) => seen2.push(i));
    await worker.claim(claimReq());
    await waitFor(() => seen2.length === 1, 2000, 'event after reconnect');
  });

  it('a blocked claim is woken by an enqueue from another connection within ~50 ms', async () => {
    const prefix = uniquePrefix();
    const worker = backends.make({ prefix });
    const producer = backends.make({ prefix });
    await producer.getInfo('warm-up');
    // settle into the blocking wait first
    const claiming = worker.claim(claimReq('w', { waitMs: 10_000 }));
    await delay(150);
    const t = newTask();
    const sent = performance.now();
    await producer.enqueue(t);
    const got = await claiming;
    const latency = performance.now() - sent;
    expect(got.map((c) => c.id)).toEqual([t.id]);
    expect(latency).toBeLessThan(50);
  });

  it('an aborted claim returns at once; close() ends a blocked claim with ClosedError', async () => {
    const b = backends.make();
    const controller = new AbortController();
    const pending = b.claim(claimReq('w', { waitMs: 10_000, signal: controller.signal }));
    await delay(100);
    const t = Date.now();
    controller.abort();
    expect(await pending).toEqual([]);
    expect(Date.now() - t).toBeLessThan(200);
    // the blocking connection is still usable afterwards
    // Caught at once: the rejection may come while close() is still being awaited.
    const again = b.claim(claimReq('w', { waitMs: 10_000 })).catch((error: unknown) => error);
    await delay(100);
    const closing = Date.now();
    await b.close();
    expect(await again).toBeInstanceOf(ClosedError);
    expect(Date.now() - closing).toBeLessThan(500);
    await expect(b.enqueue(newTask())).rejects.toBeInstanceOf(ClosedError);
    await b.close();
  });

  it('surfaces connection failures as BrokerError with the cause', async () => {
    const b = new RedisBackend({ url: 'redis://127.0.0.1:1/0', resultTtlMs: 1000, deadLetterLimit: 1 });
    try {
      const error = await b.enqueue(newTask()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokerError);
      expect((error as BrokerError).cause).toBeInstanceOf(Error);
      await expect(b.getInfo('x')).rejects.toBeInstanceOf(BrokerError);
    } finally {
      await b.close();
    }
  });
});

describeRedis('redis backend: leases when the server delays a command', () => {
  const backends = useBackends();

  it('a claim held up by CLIENT PAUSE still leases for leaseMs from when it ran, not from when it was sent', async () => {
    const prefix = uniquePrefix();
    const b = backends.make({ prefix });
    const task = newTask();
    await b.enqueue(task);
    await withClient((c) => c.call('CLIENT', 'PAUSE', '600', 'WRITE'));
    const sentAt = Date.now();
    const [claimed] = await b.claim(claimReq('w1', { leaseMs: 300 }));
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(500); // it did wait for the pause
    const leaseEnd = Number(await withClient((c) => c.zscore(`{${prefix}}:leases`, claimed!.id)));
    // from the worker's clock alone it would have ended at sentAt + 300, before the claim returned
    expect(leaseEnd).toBeGreaterThan(Date.now());
    expect(await b.extendLeases([claimed!], 300)).toEqual([]);
  });
});
