import { expect, it } from 'vitest';
import { startChild, stopChild, type Child } from '../../support/child.js';
import { describeRedis, REDIS_URL, uniquePrefix } from '../../support/redis.js';
import { delay } from '../../support/wait.js';
import { newTask, useBackends } from './helpers.js';

describeRedis('redis backend: several claimers', () => {
  const backends = useBackends();

  it('two instances and two child processes claim 2,000 tasks without a double claim', async () => {
    const prefix = uniquePrefix('multi');
    const children: Child[] = [];
    try {
      for (const worker of ['child-a', 'child-b']) {
        children.push(await startChild('test/fixtures/redis/claimer.ts', { REDIS_URL, PREFIX: prefix, WORKER: worker }));
      }
      const local = [backends.make({ prefix }), backends.make({ prefix })];
      const producer = backends.make({ prefix });
      const claimedHere: string[] = [];
      let refused = 0;
      let producing = true;
      const loops = local.map(async (b, i) => {
        let idle = 0;
        while (producing || idle < 2) {
          const tasks = await b.claim({ workerId: `local-${i}`, queues: ['default'], limit: 50, leaseMs: 30_000, waitMs: 300 });
          idle = tasks.length === 0 ? idle + 1 : 0;
          for (const t of tasks) claimedHere.push(t.id);
          const done = await Promise.all(tasks.map((t) => b.complete(t, '"local"')));
          refused += done.filter((recorded) => !recorded).length;
        }
      });
      const ids: string[] = [];
      for (let chunk = 0; chunk < 20; chunk++) {
        const tasks = Array.from({ length: 100 }, () => newTask());
        ids.push(...tasks.map((t) => t.id));
        await producer.enqueueMany(tasks);
        await delay(5);
      }
      producing = false;
      await Promise.all(loops);
      const fromChildren: string[] = [];
      for (const child of children) {
        await child.exited;
        const line = child
          .output()
          .split('\n')
          .find((l) => l.startsWith('RESULT '));
        expect(line, child.output()).toBeDefined();
        const result = JSON.parse(line!.slice('RESULT '.length)) as { claimed: string[]; refused: number };
        fromChildren.push(...result.claimed);
        refused += result.refused;
      }
      const all = [...claimedHere, ...fromChildren];
      expect(all).toHaveLength(2000);
      expect(new Set(all).size).toBe(2000);
      expect(new Set(all)).toEqual(new Set(ids));
      expect(refused).toBe(0);
      // every claimer took part
      expect(fromChildren.length).toBeGreaterThan(0);
      expect(claimedHere.length).toBeGreaterThan(0);
      const states = await Promise.all(ids.slice(0, 50).map((id) => producer.getInfo(id)));
      expect(states.every((s) => s?.state === 'SUCCESS' && s.attempts === 1)).toBe(true);
    } finally {
      for (const child of children) await stopChild(child);
    }
  });
});
