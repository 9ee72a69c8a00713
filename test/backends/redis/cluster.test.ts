import { Cluster, type Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { openBackend, RedisBackend } from '../../../src/backends/redis/index.js';
import { keySlot, parseClusterUrl } from '../../../src/backends/redis/cluster.js';
import { BrokerError, ConfigError, createApp } from '../../../src/index.js';
import { cleanupClusterUrl, describeRedisCluster } from '../../support/redis-cluster.js';
import { waitFor } from '../../support/wait.js';
import { claimReq, newTask } from './helpers.js';

// Redis-broker specifics on a local 3-master Redis Cluster of its own (started for this file);
// the conformance suite runs on it in test/conformance/redis-cluster.test.ts.
await describeRedisCluster('redis broker on a cluster', (cluster) => {
  let admin: Cluster;
  const open: RedisBackend[] = [];
  const urls: string[] = [];
  beforeAll(async () => {
    admin = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    await admin.ping();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
    for (const url of urls.splice(0)) await cleanupClusterUrl(url);
  });
  afterAll(() => admin.disconnect());

  const make = (url = cluster.url('adapter')): { backend: RedisBackend; prefix: string } => {
    urls.push(url);
    const prefix = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('prefix')!;
    const backend = new RedisBackend({ url: url.slice(0, url.indexOf('?')), prefix, resultTtlMs: 60_000, deadLetterLimit: 100 });
    open.push(backend);
    return { backend, prefix };
  };
  /** The master that serves a prefix's slot. */
  const ownerOf = (prefix: string): Redis => {
    const [owner] = admin.slots[keySlot(`{${prefix}}:`)]!;
    return admin.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner)!;
  };
  const keysOn = async (node: Redis, prefix: string): Promise<string[]> => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      out.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return out;
  };

  it('a redis+cluster:// URL opens a Cluster, and every key of the prefix is on the master of its slot', async () => {
    const { backend, prefix } = make();
    expect((backend as unknown as { redis: unknown }).redis).toBeInstanceOf(Cluster);
    const tasks = [
      newTask({ queue: 'a', tags: ['t1'] }),
      newTask({ queue: 'b', priority: 5 }),
      newTask({ runAt: Date.now() + 60_000 }),
    ];
    await backend.enqueueMany(tasks);
    const claimed = await backend.claim(claimReq('w1', { queues: ['a', 'b'] }));
    expect(claimed).toHaveLength(2);
    await backend.recordProgress(claimed[0]!, { current: 1, total: 2 });
    await backend.complete(claimed[0]!, '1');
    await backend.deadLetter(claimed[1]!, { type: 'E', message: 'boom' });
    const owner = ownerOf(prefix);
    const here = await keysOn(owner, prefix);
    expect(here.length).toBeGreaterThan(8);
    for (const node of admin.nodes('master')) {
      if (node !== owner) expect(await keysOn(node, prefix)).toEqual([]);
    }
    // the admin SCAN (a script on the slot's master) sees every task of the prefix
    const listed = await backend.admin.listTasks({ limit: 10 });
    expect(listed.tasks.map((t) => t.id).sort()).toEqual(tasks.map((t) => t.id).sort());
    expect((await backend.listDeadLetters(10)).map((d) => d.id)).toEqual([claimed[1]!.id]);
  });

  it('a script may touch undeclared keys of its own slot, not of another (what the scripts rely on)', async () => {
    const { prefix } = make();
    const owner = ownerOf(prefix);
    const declared = `{${prefix}}:declared`;
    const lua = "redis.call('SET', ARGV[1], 'x') return redis.call('GET', ARGV[1])";
    expect(await admin.eval(lua, 1, declared, `{${prefix}}:built-inside`)).toBe('x');
    // an undeclared key of a slot another master serves: refused (Redis checks each command
    // a script runs against the node's own slots), so every key a script builds must share the tag
    const ownerAddress = admin.slots[keySlot(declared)]![0];
    let other = 'x';
    for (let i = 0; admin.slots[keySlot(other)]![0] === ownerAddress; i++) other = `other-${i}`;
    await expect(owner.eval(lua, 1, declared, other)).rejects.toThrow(/non local key/);
  });

  it('status, revocation and tag events go over sharded pub/sub on the slot’s master', async () => {
    const { backend, prefix } = make();
    const task = newTask({ tags: ['t'] });
    await backend.enqueue(task);
    const states: string[] = [];
    const revoked: string[] = [];
    const tagged: string[] = [];
    const offs = [
      await backend.subscribeStatus(task.id, (info) => states.push(info.state)),
      await backend.subscribeRevocations((id) => revoked.push(id)),
      await backend.subscribeTag('t', (entry) => tagged.push(entry.info.state)),
    ];
    const owner = ownerOf(prefix);
    const channels = (await owner.call('PUBSUB', 'SHARDCHANNELS', `{${prefix}}:*`)) as string[];
    expect(channels.sort()).toEqual([`{${prefix}}:revoked`, `{${prefix}}:status:${task.id}`, `{${prefix}}:tag:t`].sort());
    for (const node of admin.nodes('master')) {
      expect(await node.call('PUBSUB', 'CHANNELS', `{${prefix}}:*`)).toEqual([]);
    }
    const [claimed] = await backend.claim(claimReq());
    await backend.revoke(claimed!.id);
    await waitFor(() => revoked.length === 1 && states.includes('REVOKED') && tagged.includes('REVOKED'), 5000, 'events');
    expect(states).toEqual(['STARTED', 'REVOKED']);
    expect(revoked).toEqual([task.id]);
    for (const off of offs) await off();
  });

  it('a claim blocks on the master of its slot, wakes on a push, and ends on time', async () => {
    const { backend, prefix } = make();
    const owner = ownerOf(prefix);
    const blocked = async (node: Redis) =>
      String(await node.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(`name=errand:block:${backend.instanceId}`) && line.includes('cmd=bzpopmin'));
    const waiting = backend.claim(claimReq('w1', { waitMs: 10_000 }));
    await waitFor(async () => (await blocked(owner)).length === 1, 5000, 'the claim to block on the slot master');
    for (const node of admin.nodes('master')) if (node !== owner) expect(await blocked(node)).toEqual([]);
    const started = Date.now();
    await backend.enqueue(newTask());
    expect(await waiting).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
    // a wait that runs out is ended at its time (CLIENT UNBLOCK sent to that node)
    const t = Date.now();
    expect(await backend.claim(claimReq('w1', { waitMs: 300 }))).toEqual([]);
    expect(Date.now() - t).toBeLessThan(1500);
  });

  it("the lease thread's BackendSpec opens a Cluster too", async () => {
    const { backend } = make();
    const fromSpec = openBackend(backend.spec.options as ConstructorParameters<typeof RedisBackend>[0]);
    open.push(fromSpec);
    expect((fromSpec as unknown as { redis: unknown }).redis).toBeInstanceOf(Cluster);
    await backend.enqueue(newTask());
    const [claimed] = await backend.claim(claimReq('w1', { leaseMs: 1000 }));
    expect(await fromSpec.extendLeases([claimed!], 60_000)).toEqual([]);
  });

  it('createApp reads the cluster URL; a database, an unknown parameter and a bad node are ConfigErrors', async () => {
    const url = cluster.url('app');
    urls.push(url);
    const app = createApp({ broker: url, logger: false });
    try {
      expect(app.backend).toBeInstanceOf(RedisBackend);
      const add = app.task('cluster.add', (_ctx, a: number, b: number) => a + b);
      const worker = app.worker({ handleSignals: false, claimWaitMs: 200 });
      await worker.start();
      expect(await (await add.delay(2, 3)).get({ timeout: 5000 })).toBe(5);
      await worker.stop();
    } finally {
      await app.close();
    }
    const seeds = cluster.nodes.join(',');
    expect(() => createApp({ broker: `redis+cluster://${seeds}/1`, logger: false })).toThrow(ConfigError);
    expect(() => createApp({ broker: `redis+cluster://${seeds}/?bogus=1`, logger: false })).toThrow(ConfigError);
    expect(() => createApp({ broker: `redis+cluster://u:secret@${seeds}/?bogus=1`, logger: false })).toThrow(/u:\*\*\*@/);
    expect(() => parseClusterUrl('redis+cluster://a:b:c/')).toThrow(ConfigError);
    expect(parseClusterUrl('rediss+cluster://u:p%40ss@h1:7000,[::1]:7001,h3?family=4')).toMatchObject({
      nodes: [
        { host: 'h1', port: 7000 },
        { host: '::1', port: 7001 },
        { host: 'h3', port: 6379 },
      ],
      username: 'u',
      password: 'p@ss',
      tls: true,
    });
  });

  it('an unreachable cluster fails calls with a BrokerError naming its nodes, as one Redis does', async () => {
    const app = createApp({ broker: 'redis+cluster://127.0.0.1:1,127.0.0.1:2/?prefix=down', logger: false });
    try {
      const task = app.task('t', () => 1);
      const started = Date.now();
      const error = await task.delay().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokerError);
      expect((error as Error).message).toMatch(/cannot reach the cluster at 127\.0\.0\.1:1,127\.0\.0\.1:2/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await app.close();
    }
  });

  /** Moves a slot and its keys to another master, as `redis-cli --cluster reshard` does. */
  const migrateSlot = async (slot: number, from: Redis, to: Redis): Promise<void> => {
    const fromId = String(await from.call('CLUSTER', 'MYID'));
    const toId = String(await to.call('CLUSTER', 'MYID'));
    await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
    await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
    for (;;) {
      const keys = (await from.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
      if (keys.length === 0) break;
      await from.call('MIGRATE', to.options.host!, to.options.port!, '', 0, 5000, 'KEYS', ...keys);
    }
    await to.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
    await from.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
    for (const node of admin.nodes('master'))
      if (node !== to && node !== from) await node.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
  };

  it('follows its slot to another master: commands, a blocked claim and status listeners', async () => {
    const { backend, prefix } = make();
    const from = ownerOf(prefix);
    const to = admin.nodes('master').find((n) => n !== from)!;
    const slot = keySlot(`{${prefix}}:`);
    const watched = newTask();
    await backend.enqueue(watched);
    const states: string[] = [];
    const off = await backend.subscribeStatus(watched.id, (info) => states.push(info.state));
    const waiting = backend.claim(claimReq('w2', { queues: ['other'], waitMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 200));
    try {
      await migrateSlot(slot, from, to);
      expect(await keysOn(from, prefix)).toEqual([]);
      expect((await keysOn(to, prefix)).length).toBeGreaterThan(0);
      // the blocked claim was told MOVED and blocks again on the new master
      await waitFor(
        async () => String(await to.client('LIST')).includes(`name=errand:block:${backend.instanceId}`),
        10_000,
        'the blocking connection to move',
      );
      await backend.enqueue(newTask({ queue: 'other' }));
      expect(await waiting).toHaveLength(1);
      // the subscriber lost its sharded subscriptions with the slot, and resubscribed on the new master
      await waitFor(
        async () => ((await to.call('PUBSUB', 'SHARDCHANNELS', `{${prefix}}:*`)) as string[]).length === 1,
        10_000,
        'the status subscription to move',
      );
      const [claimed] = await backend.claim(claimReq('w1'));
      expect(claimed!.id).toBe(watched.id);
      await backend.complete(claimed!, '1');
      await waitFor(() => states.includes('SUCCESS'), 5000, 'the status events after the move');
      expect(states.at(-1)).toBe('SUCCESS');
    } finally {
      await off();
      await migrateSlot(slot, to, from).catch(() => {});
    }
  });

  it("a worker and its app carry on after the prefix's master restarts (its data lost: no persistence)", async () => {
    const url = cluster.url('restart');
    urls.push(url);
    const prefix = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('prefix')!;
    const app = createApp({ broker: url, logger: false });
    const add = app.task('cluster.add', (_ctx, a: number, b: number) => a + b);
    const worker = app.worker({ handleSignals: false, claimWaitMs: 500 });
    try {
      await worker.start();
      expect(await (await add.delay(1, 1)).get({ timeout: 5000 })).toBe(2);
      const owner = ownerOf(prefix);
      // the worker is blocked on the master when it goes away
      await new Promise((r) => setTimeout(r, 300));
      await cluster.restart(`${owner.options.host}:${owner.options.port}`);
      let result: Awaited<ReturnType<typeof add.delay>> | undefined;
      await waitFor(
        async () => {
          result = await add.delay(2, 3).catch(() => undefined);
          return result !== undefined;
        },
        20_000,
        'an enqueue to succeed again',
      );
      // the worker claims it (its blocking connection reconnected) and get() hears it (the subscriber did)
      expect(await result!.get({ timeout: 10_000 })).toBe(5);
    } finally {
      await worker.stop();
      await app.close();
    }
  }, 60_000);
});
