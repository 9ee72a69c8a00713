import { describe, expect, it } from 'vitest';
import { delay } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** A claim with waitMs: woken by an enqueue (here or in another app) or a due time, ended by its abort signal or its wait. */
export function describeClaimWait(setup: Setup): void {
  describe('waiting claims', () => {
    it('never hands out a task before its due time, and wakes a waiting claim when it becomes due, not at its wait limit', async () => {
      const b = (await setup()).app.backend;
      const runAt = Date.now() + 300;
      const later = newTask({ runAt });
      await b.enqueue(later);
      expect(await b.claim(claimRequest())).toEqual([]);
      const started = Date.now();
      const claimed = await b.claim(claimRequest('w1', { waitMs: 5_000 }));
      expect(claimed.map((x) => x.id)).toEqual([later.id]);
      expect(Date.now()).toBeGreaterThanOrEqual(runAt);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await b.claim(claimRequest())).toEqual([]);
    });

    it('a waiting claim is woken by an enqueue in the same app and in another, and gives up on abort or when the wait ends', async () => {
      const env = await setup();
      const b = env.app.backend;
      for (const producer of [b, env.otherApp().backend]) {
        const waiting = b.claim(claimRequest('w1', { waitMs: 10_000 }));
        await delay(50);
        const task = newTask();
        const started = Date.now();
        await producer.enqueue(task);
        expect((await waiting).map((x) => x.id)).toEqual([task.id]);
        expect(Date.now() - started).toBeLessThan(2_000);
      }

      const controller = new AbortController();
      const aborted = b.claim(claimRequest('w1', { waitMs: 10_000, signal: controller.signal }));
      await delay(50);
      const abortedAt = Date.now();
      controller.abort();
      expect(await aborted).toEqual([]);
      expect(Date.now() - abortedAt).toBeLessThan(500);
      const started = Date.now();
      expect(await b.claim(claimRequest('w1', { waitMs: 100 }))).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    });

    it('wakes every waiting claimer when enough work arrives', async () => {
      const env = await setup();
      const [a, b, producer] = [env.app.backend, env.otherApp().backend, env.otherApp().backend];
      const claims = [
        a.claim(claimRequest('a', { limit: 2, waitMs: 5000 })),
        b.claim(claimRequest('b', { limit: 2, waitMs: 5000 })),
      ];
      await delay(100);
      const started = Date.now();
      await producer.enqueueMany([newTask(), newTask(), newTask(), newTask()]);
      const [ga, gb] = await Promise.all(claims);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(ga!.length + gb!.length).toBe(4);
    });

    it('overlapping claims on one backend are safe and both get woken', async () => {
      const env = await setup();
      const b = env.app.backend;
      const producer = env.otherApp().backend;
      const c1 = b.claim(claimRequest('w', { limit: 1, waitMs: 3000 }));
      const c2 = b.claim(claimRequest('w', { limit: 1, waitMs: 3000 }));
      await delay(100);
      const started = Date.now();
      await producer.enqueueMany([newTask(), newTask()]);
      const got = [...(await c1), ...(await c2)];
      expect(new Set(got.map((g) => g.id)).size).toBe(2);
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });
}
