import { describe, expect, it } from 'vitest';
import { SerializationError, type Errand } from '../../../src/index.js';
import { delay } from '../../support/wait.js';
import type { Env, Setup } from '../seam.js';

/** delayMany, applyAsyncMany and sendTaskMany: one enqueueMany call, all or nothing. */
export function describeBulkEnqueue(setup: Setup): void {
  describe('bulk enqueue', () => {
    /** Counts the backend calls the app makes (the seam), leaving them working. */
    const countCalls = (app: Errand): { enqueue: number; enqueueMany: number; sizes: number[] } => {
      const counts = { enqueue: 0, enqueueMany: 0, sizes: [] as number[] };
      const b = app.backend;
      const one = b.enqueue.bind(b);
      const many = b.enqueueMany.bind(b);
      b.enqueue = (task) => {
        counts.enqueue++;
        return one(task);
      };
      b.enqueueMany = (tasks) => {
        counts.enqueueMany++;
        counts.sizes.push(tasks.length);
        return many(tasks);
      };
      return counts;
    };
    const nothingQueued = async (env: Env, queues = ['default']): Promise<void> => {
      const claimed = await env.app.backend.claim({ workerId: 'probe', queues, limit: 100, leaseMs: 1000, waitMs: 0 });
      expect(claimed).toEqual([]);
    };

    it('delayMany stores every task in one enqueueMany call, results in order, and a worker runs them all', async () => {
      const env = await setup();
      const calls = countCalls(env.app);
      const argsList = Array.from({ length: 50 }, (_, i): [number, number] => [i, 1000]);
      const results = await env.tasks.add.delayMany(argsList);
      expect(calls).toEqual({ enqueue: 0, enqueueMany: 1, sizes: [50] });
      expect(new Set(results.map((r) => r.id)).size).toBe(50);
      expect((await env.otherApp().result(results[7]!.id).info())?.state).toBe('PENDING');
      expect(await env.tasks.add.delayMany([])).toEqual([]);
      expect(calls.enqueueMany).toBe(1);
      await env.worker({ concurrency: 10 });
      expect(await Promise.all(results.map((r) => r.get({ timeout: 10_000 })))).toEqual(argsList.map(([a, b]) => a + b));
    });

    it('applyAsyncMany: options per item; one key twice in a batch is one task; a known key returns its task', async () => {
      const env = await setup();
      const known = await env.tasks.record.applyAsync(['known'], { idempotencyKey: 'bulk-known' });
      const [a, b, c, d, e] = await env.tasks.record.applyAsyncMany([
        { args: ['a'], options: { idempotencyKey: 'bulk-1' } },
        { args: ['a'], options: { idempotencyKey: 'bulk-1' } },
        { args: ['known'], options: { idempotencyKey: 'bulk-known' } },
        { args: ['later'], options: { countdown: 300 } },
        { args: ['plain'] },
      ]);
      expect(b!.id).toBe(a!.id);
      expect(c!.id).toBe(known.id);
      expect(new Set([a!.id, c!.id, d!.id, e!.id]).size).toBe(4);
      expect((await d!.info())!.runAt - (await d!.info())!.enqueuedAt).toBe(300);
      await env.worker();
      await Promise.all([a, d, e, known].map((r) => r!.get({ timeout: 5000 })));
      await delay(150);
      const starts = env.lines().filter((l) => l.startsWith('start '));
      expect(starts.map((l) => l.split(' ')[1]).sort()).toEqual(['a', 'known', 'later', 'plain']);
    });

    it('a bad item refuses the whole batch, naming its index, and stores nothing', async () => {
      const env = await setup({ payloadLimitBytes: 1024 });
      const calls = countCalls(env.app);
      const anyTask = env.app.task('conf.bulkany', (_ctx, value: unknown) => value);
      const serialization = await anyTask.delayMany([[1], [2], [{ when: new Date() }]]).catch((x: unknown) => x);
      expect(serialization).toBeInstanceOf(SerializationError);
      expect((serialization as SerializationError).path).toBe('items[2].args[0].when');
      await expect(anyTask.delayMany([[1], ['x'.repeat(2000)]])).rejects.toThrow(/items\[1\]\.args is \d+ bytes/);
      const config = await anyTask
        .applyAsyncMany([{ args: [1] }, { args: [2], options: { countdown: -1 } }])
        .catch((x: unknown) => x);
      expect(config).toMatchObject({ code: 'ERR_CONFIG', message: expect.stringMatching(/^items\[1\]: countdown/) });
      await expect(anyTask.applyAsyncMany([{ args: [1] }, { args: 'nope' as never }])).rejects.toThrow(/items\[1\]: args/);
      await expect(
        env.app.sendTaskMany([
          { name: 'conf.add', args: [1, 2] },
          { name: '', args: [] },
        ]),
      ).rejects.toThrow(/items\[1\]: a task needs a non-empty name/);
      await expect(anyTask.delayMany('nope' as never)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
      expect(calls.enqueueMany).toBe(0);
      await nothingQueued(env);
    });

    it('sendTaskMany mixes task names and queues in one call', async () => {
      const env = await setup();
      const calls = countCalls(env.app);
      const [x, y, z] = await env.app.sendTaskMany<unknown>([
        { name: 'conf.add', args: [1, 2] },
        { name: 'conf.record', args: ['mixed'] },
        { name: 'conf.add', args: [3, 4], options: { queue: 'other' } },
      ]);
      expect(calls.sizes).toEqual([3]);
      expect((await z!.info())!.queue).toBe('other');
      await env.worker({ queues: ['default', 'other'] });
      expect(await x!.get({ timeout: 5000 })).toBe(3);
      expect(await y!.get({ timeout: 5000 })).toMatchObject({ key: 'mixed' });
      expect(await z!.get({ timeout: 5000 })).toBe(7);
    });

    it('a batch larger than a Redis script chunk (2,500) keeps its order and dedupes across chunks', async () => {
      const env = await setup();
      const items = Array.from({ length: 2500 }, (_, i) => ({
        args: [i, 0] as [number, number],
        // item 1500 repeats item 10's key: a later chunk sees an earlier chunk's task
        options: i === 10 || i === 1500 ? { idempotencyKey: 'across' } : undefined,
      }));
      items[1500]!.args = [10, 0];
      const results = await env.tasks.add.applyAsyncMany(items);
      expect(results).toHaveLength(2500);
      expect(results[1500]!.id).toBe(results[10]!.id);
      expect(new Set(results.map((r) => r.id)).size).toBe(2499);
      await env.worker({ concurrency: 50 });
      const values = await Promise.all(results.map((r) => r.get({ timeout: 20_000 })));
      expect(values.every((v, i) => v === (i === 1500 ? 10 : i))).toBe(true);
    });
  });
}
