import { randomUUID } from 'node:crypto';
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
    expect(b.capabilities).toEqual({ crossProcess: true, durable: true, flowControl: true, rateLimits: true, debounce: true });
    expect(() => new RedisBackend({ url: 'redis://x', prefix: 'a{b}', resultTtlMs: 1, deadLetterLimit: 1 })).toThrow(ConfigError);
  });

  it('stores a task PENDING at version 1, readable from another instance', async () => {
    const prefix = uniquePrefix();
    const a = backends.make({ prefix });
    const b = backends.make({ prefix });
    const task = newTask({ payload: '[1,"two"]' });
    expect(await a.enqueue(task)).toEqual({ id: task.id, created: true });
    expect(await b.getInfo(task.id)).toEqual({
      id: task.id,
      name: 'test.task',
      queue: 'default',
      state: 'PENDING',
      version: 1,
      attempts: 0,
      retries: 0,
      enqueuedAt: task.enqueuedAt,
      runAt: task.runAt,
    });
    expect(await b.getInfo(randomUUID())).toBeNull();
  });

  it('hands out due tasks in enqueue order, across batches, each once', async () => {
    const b = backends.make();
    const tasks = Array.from({ length: 30 }, () => newTask());
    await b.enqueueMany(tasks.slice(0, 10));
    for (const t of tasks.slice(10)) await b.enqueue(t);
    const first = await b.claim(claimReq('w1', { limit: 12 }));
    const second = await b.claim(claimReq('w1', { limit: 50 }));
    expect([...first, ...second].map((c) => c.id)).toEqual(tasks.map((t) => t.id));
    expect(first[0]).toMatchObject({ attempt: 1, retries: 0, payload: '[]', workerId: 'w1', name: 'test.task' });
    expect(await b.claim(claimReq())).toEqual([]);
  });

  it('keeps queues apart and claims from several queues in the order given', async () => {
    const b = backends.make();
    const x = newTask({ queue: 'x' });
    const y = newTask({ queue: 'y' });
    await b.enqueueMany([y, x]);
    expect(await b.claim(claimReq('w', { queues: ['z'] }))).toEqual([]);
    const got = await b.claim(claimReq('w', { queues: ['x', 'y'] }));
    expect(got.map((c) => c.id)).toEqual([x.id, y.id]);
  });

  it('never hands out a delayed task before its runAt, and hands it out once', async () => {
    const prefix = uniquePrefix();
    const claimers = [backends.make({ prefix }), backends.make({ prefix })];
    const producer = backends.make({ prefix });
    const t0 = Date.now();
    const tasks = Array.from({ length: 40 }, (_, i) => newTask({ runAt: t0 + 100 + (i % 8) * 40 }));
    await producer.enqueueMany(tasks);
    const due = new Map(tasks.map((t) => [t.id, t.runAt]));
    const seen: Array<{ id: string; at: number }> = [];
    const until = t0 + 1200;
    await Promise.all(
      claimers.map(async (b, i) => {
        while (Date.now() < until) {
          const got = await b.claim(claimReq(`w${i}`, { waitMs: 100, limit: 3 }));
          const at = Date.now();
          for (const c of got) seen.push({ id: c.id, at });
        }
      }),
    );
    expect(seen).toHaveLength(40);
    expect(new Set(seen.map((s) => s.id)).size).toBe(40);
    for (const s of seen) expect(s.at).toBeGreaterThanOrEqual(due.get(s.id)!);
  });

  it('a claim waiting for a delayed task returns it when due, not at its wait limit', async () => {
    const b = backends.make();
    const t0 = Date.now();
    await b.enqueue(newTask({ runAt: t0 + 250 }));
    const got = await b.claim(claimReq('w', { waitMs: 5000 }));
    const took = Date.now() - t0;
    expect(got).toHaveLength(1);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
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

  it('rescues a task whose lease expired; the old delivery may only succeed; renewed leases are kept', async () => {
    const prefix = uniquePrefix();
    const dead = backends.make({ prefix });
    const alive = backends.make({ prefix });
    const [orphan, kept] = [newTask(), newTask()];
    await dead.enqueueMany([orphan, kept]);
    const [c1] = await dead.claim(claimReq('dead', { limit: 1, leaseMs: 100 }));
    const [c2] = await alive.claim(claimReq('alive', { limit: 1, leaseMs: 100 }));
    expect(await alive.rescueExpired()).toBe(0);
    await delay(60);
    expect(await alive.extendLeases([c2!], 400)).toEqual([]);
    await delay(90);
    expect(await alive.rescueExpired()).toBe(1);
    expect(await alive.getInfo(orphan.id)).toMatchObject({ state: 'PENDING', attempts: 1, version: 3 });
    expect((await alive.getInfo(kept.id))!.state).toBe('STARTED');
    const [again] = await alive.claim(claimReq('alive'));
    expect(again).toMatchObject({ id: orphan.id, attempt: 2 });
    expect(await dead.fail(c1!, { type: 'E', message: 'late failure' })).toBe(false);
    expect(await alive.extendLeases([c1!], 1000)).toEqual([c1!.id]);
    // The old delivery's success counts (first finisher wins); the redelivery is then stale.
    expect(await dead.complete(c1!, '"late"')).toBe(true);
    expect(await alive.complete(again!, '"ok"')).toBe(false);
    expect((await alive.getInfo(again!.id))!.result).toBe('late');
    expect(await alive.rescueExpired()).toBe(0);
  });

  it('revokes a pending (or delayed) task: it is never handed out', async () => {
    const b = backends.make();
    const [now, later] = [newTask(), newTask({ runAt: Date.now() + 100 })];
    await b.enqueueMany([now, later]);
    expect(await b.revoke(now.id)).toMatchObject({ state: 'REVOKED', version: 2 });
    expect((await b.revoke(later.id))!.state).toBe('REVOKED');
    expect(await b.claim(claimReq('w', { waitMs: 300 }))).toEqual([]);
    expect(await b.revoke(randomUUID())).toBeNull();
    // a finished task is returned unchanged
    expect(await b.revoke(now.id)).toMatchObject({ state: 'REVOKED', version: 2 });
  });

  it('revoking a running task reaches revocation listeners on another connection', async () => {
    const prefix = uniquePrefix();
    const worker = backends.make({ prefix });
    const admin = backends.make({ prefix });
    const heard: string[] = [];
    const off = await worker.subscribeRevocations((id) => heard.push(id));
    const t = newTask();
    await admin.enqueue(t);
    const [c] = await worker.claim(claimReq());
    const info = await admin.revoke(t.id);
    expect(info).toMatchObject({ state: 'REVOKED', version: 3 });
    await waitFor(() => heard.length === 1, 2000, 'revocation');
    expect(heard).toEqual([t.id]);
    expect(await worker.extendLeases([c!], 1000)).toEqual([t.id]);
    expect(await worker.complete(c!, '1')).toBe(false);
    await off();
    await off();
  });

  it('expired tasks end REVOKED with TaskExpired at claim instead of being handed out', async () => {
    const b = backends.make();
    const t = newTask({ expiresAt: Date.now() + 30 });
    const fresh = newTask({ expiresAt: Date.now() + 60_000 });
    await b.enqueueMany([t, fresh]);
    await delay(60);
    const got = await b.claim(claimReq());
    expect(got.map((c) => c.id)).toEqual([fresh.id]);
    expect(await b.getInfo(t.id)).toMatchObject({ state: 'REVOKED', error: { type: 'TaskExpired' } });
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

  it('keeps at most deadLetterLimit dead letters, newest first', async () => {
    const b = backends.make({ deadLetterLimit: 3 });
    const tasks = Array.from({ length: 5 }, (_, i) => newTask({ payload: `[${i}]` }));
    await b.enqueueMany(tasks);
    const claimed = await b.claim(claimReq());
    for (const [i, c] of claimed.entries()) {
      expect(await b.deadLetter(c, { type: 'DecodeError', message: `bad ${i}` })).toBe(true);
      expect(await b.getInfo(c.id)).toMatchObject({ state: 'FAILURE' });
    }
    const letters = await b.listDeadLetters(10);
    expect(letters.map((l) => l.payload)).toEqual(['[4]', '[3]', '[2]']);
    expect(letters[0]).toMatchObject({
      id: tasks[4]!.id,
      name: 'test.task',
      queue: 'default',
      error: { type: 'DecodeError', message: 'bad 4' },
    });
    expect(await b.listDeadLetters(1)).toHaveLength(1);
  });

  it('publishes every transition to status subscribers in version order', async () => {
    const prefix = uniquePrefix();
    const watcher = backends.make({ prefix });
    const worker = backends.make({ prefix });
    const t = newTask();
    await worker.enqueue(t);
    const seen: TaskInfo[] = [];
    const other: TaskInfo[] = [];
    const off = await watcher.subscribeStatus(t.id, (i) => seen.push(i));
    const off2 = await watcher.subscribeStatus(t.id, (i) => other.push(i));
    const [c] = await worker.claim(claimReq());
    await worker.recordProgress(c!, { current: 1, total: 2, meta: { step: 'a/b "q"' } });
    expect(await worker.complete(c!, '{"answer":42}')).toBe(true);
    await waitFor(() => seen.length === 3, 2000, 'three events');
    expect(seen.map((s) => [s.state, s.version])).toEqual([
      ['STARTED', 2],
      ['PROGRESS', 3],
      ['SUCCESS', 4],
    ]);
    expect(seen[1]!.progress).toEqual({ current: 1, total: 2, meta: { step: 'a/b "q"' } });
    expect(seen[2]).toEqual(await watcher.getInfo(t.id));
    await off();
    expect(other).toHaveLength(3);
    await off2();
  });

  it('keeps odd ids, names, worker ids and JSON intact in events and reads', async () => {
    const b = backends.make();
    const t = newTask({
      id: `odd "id" \\ ${randomUUID()}`,
      name: 'émoji 🚀 "quoted" \\ name',
      queue: 'q:with|pipes',
      payload: '["\\u0000"]',
    });
    await b.enqueue(t);
    const seen: TaskInfo[] = [];
    await b.subscribeStatus(t.id, (i) => seen.push(i));
    const [c] = await b.claim(claimReq('worker|with|pipes', { queues: [t.queue] }));
    expect(c).toMatchObject({ id: t.id, name: t.name, queue: t.queue, payload: t.payload, workerId: 'worker|with|pipes' });
    expect(await b.extendLeases([c!], 1000)).toEqual([]);
    await b.recordProgress(c!, { current: 1, meta: { note: 'line\nbreak "q"' } });
    expect(await b.complete(c!, JSON.stringify({ text: '"hi" \\ ünï' }))).toBe(true);
    const done = await b.getInfo(t.id);
    await waitFor(() => seen.length === 3, 2000, 'events');
    expect(seen[2]).toEqual(done);
    expect(await b.getInfo(t.id)).toEqual(done);
    expect(done).toMatchObject({ name: t.name, queue: t.queue, result: { text: '"hi" \\ ünï' } });
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

  it('wakes every waiting claimer when enough work arrives (chained wake tokens)', async () => {
    const prefix = uniquePrefix();
    const a = backends.make({ prefix });
    const b = backends.make({ prefix });
    const producer = backends.make({ prefix });
    const claims = [a.claim(claimReq('a', { limit: 2, waitMs: 5000 })), b.claim(claimReq('b', { limit: 2, waitMs: 5000 }))];
    await delay(100);
    const started = Date.now();
    await producer.enqueueMany([newTask(), newTask(), newTask(), newTask()]);
    const [ga, gb] = await Promise.all(claims);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(ga!.length + gb!.length).toBe(4);
  });

  it('overlapping claims on one instance are safe and both get woken', async () => {
    const prefix = uniquePrefix();
    const b = backends.make({ prefix });
    const producer = backends.make({ prefix });
    const c1 = b.claim(claimReq('w', { limit: 1, waitMs: 3000 }));
    const c2 = b.claim(claimReq('w', { limit: 1, waitMs: 3000 }));
    await delay(100);
    const started = Date.now();
    await producer.enqueueMany([newTask(), newTask()]);
    const got = [...(await c1), ...(await c2)];
    expect(new Set(got.map((g) => g.id)).size).toBe(2);
    expect(Date.now() - started).toBeLessThan(1000);
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
