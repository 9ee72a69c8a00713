import { describe, expect, it } from 'vitest';
import type { Backend, ClaimedTask, NewTask } from '../../../src/index.js';
import { delay } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/**
 * NewTask.rateLimits and Backend.holdRateLimit (capabilities.rateLimits):
 * at most `limit` claims per key in any window of `perMs`, broker-wide; a
 * rate-limited group waits while others are served; a claim with only
 * rate-limited work waits for the window, not spinning; a hold blocks the
 * keys in every app. Short windows keep it fast; the bounds are generous
 * but real. Skipped on brokers without the capability.
 */
export function describeRateLimits(setup: Setup, enabled: () => Promise<boolean>): void {
  describe('rate limits', async () => {
    const on = await enabled();
    const rated = (key: string, limit: number, perMs: number, patch: Partial<NewTask> = {}): NewTask =>
      newTask({ rateLimits: [{ key, limit, perMs }], group: key, ...patch });
    const enqueueAll = async (b: Backend, tasks: NewTask[]): Promise<NewTask[]> => {
      await b.enqueueMany(tasks);
      return tasks;
    };
    const claim = (b: Backend, limit = 10, waitMs = 0): Promise<ClaimedTask[]> => b.claim(claimRequest('w1', { limit, waitMs }));

    describe.skipIf(!on)('sliding window', () => {
      it('3 per 300 ms: 3 handed out, then nothing until the window allows more, across apps', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        await enqueueAll(
          b,
          Array.from({ length: 8 }, () => rated('k', 3, 300)),
        );
        const started = Date.now();
        expect(await claim(b, 2)).toHaveLength(2);
        expect(await claim(other, 10)).toHaveLength(1);
        expect(await claim(b, 10)).toHaveLength(0);
        expect(await claim(other, 10)).toHaveLength(0);
        // the window opens 300 ms after the first claims: a waiting claim gets them then, not before
        const next = await claim(other, 10, 3000);
        const waited = Date.now() - started;
        expect(next.length).toBeGreaterThanOrEqual(1);
        expect(next.length).toBeLessThanOrEqual(3);
        expect(waited).toBeGreaterThanOrEqual(290);
        expect(waited).toBeLessThan(1500);
        // the first claims were a few ms apart, so their slots reopen a few ms apart: by 400 ms all 3 have,
        // and the next window opens 300 ms after the waiting claim (at 590 ms or later)
        await delay(Math.max(0, started + 400 - Date.now()));
        const rest = [...(await claim(b, 10)), ...(await claim(other, 10))];
        expect(next.length + rest.length).toBe(3);
      });

      it('racing claims of two apps hand out no more than the limit in a window', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        await enqueueAll(
          b,
          Array.from({ length: 20 }, () => rated('r', 4, 5000)),
        );
        const raced = await Promise.all([claim(b), claim(other), claim(b), claim(other)]);
        expect(raced.flat()).toHaveLength(4);
      });

      it('a rate-limited key does not block another key’s tasks, nor tasks without one', async () => {
        const b = (await setup()).app.backend;
        const a = await enqueueAll(
          b,
          Array.from({ length: 50 }, () => rated('A', 1, 5000)),
        );
        const [free] = await enqueueAll(b, [rated('B', 1, 5000)]);
        const [plain] = await enqueueAll(b, [newTask()]);
        const ids = (await claim(b)).map((c) => c.id);
        expect(ids).toHaveLength(3);
        expect(ids).toEqual(expect.arrayContaining([a[0]!.id, free!.id, plain!.id]));
        expect(await claim(b)).toHaveLength(0);
      });

      it('within a group, tasks wait behind a rate-limited head (first in first out)', async () => {
        const b = (await setup()).app.backend;
        await enqueueAll(b, [rated('k', 1, 5000, { group: 'g' })]);
        expect(await claim(b)).toHaveLength(1);
        await enqueueAll(b, [rated('k', 1, 5000, { group: 'g' }), newTask({ group: 'g' })]);
        const [other] = await enqueueAll(b, [newTask({ group: 'h' })]);
        expect((await claim(b)).map((c) => c.id)).toEqual([other!.id]);
      });

      it('a claim with only rate-limited work waits for the window, without spinning', async () => {
        const b = (await setup()).app.backend;
        await enqueueAll(b, [rated('w', 1, 400), rated('w', 1, 400)]);
        expect(await claim(b)).toHaveLength(1);
        const started = Date.now();
        const cpu = process.cpuUsage();
        const next = await claim(b, 10, 5000);
        const waited = Date.now() - started;
        const used = process.cpuUsage(cpu);
        expect(next).toHaveLength(1);
        expect(waited).toBeGreaterThanOrEqual(350);
        expect(waited).toBeLessThan(2000);
        // a busy loop would burn the whole wait
        expect((used.user + used.system) / 1000).toBeLessThan(waited / 2);
      });

      it('every entry applies, and entries may share a key with different windows', async () => {
        const b = (await setup()).app.backend;
        const both = (): NewTask =>
          newTask({
            rateLimits: [
              { key: 'x', limit: 2, perMs: 200 },
              { key: 'x', limit: 3, perMs: 5000 },
            ],
            group: 'x',
          });
        await enqueueAll(b, Array.from({ length: 6 }, both));
        expect(await claim(b)).toHaveLength(2);
        await delay(260);
        // the short window allows 2 more, the long one only 1
        expect(await claim(b)).toHaveLength(1);
        await delay(260);
        expect(await claim(b)).toHaveLength(0);
      });

      it('rate limits survive a retry, and the retry takes a new turn', async () => {
        const b = (await setup()).app.backend;
        await enqueueAll(b, [rated('t', 1, 5000)]);
        const [first] = await claim(b);
        expect(await b.retryLater(first!, { type: 'E', message: 'no' }, Date.now())).toBe(true);
        expect(await claim(b)).toHaveLength(0);
      });
    });

    describe.skipIf(!on)('holdRateLimit', () => {
      it('blocks the key for its time across apps; the held task comes back with the same attempt count', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        const [held, sibling] = await enqueueAll(b, [
          rated('h', 100, 60_000, { group: 'g1' }),
          rated('h', 100, 60_000, { group: 'g2' }),
        ]);
        const [unrelated] = await enqueueAll(b, [rated('u', 100, 60_000)]);
        const [first] = await claim(b, 1);
        expect(first!.id).toBe(held!.id);
        expect(first!.attempt).toBe(1);
        const started = Date.now();
        expect(await b.holdRateLimit!(first!, Date.now() + 400)).toBe(true);
        expect(await b.getInfo(held!.id)).toMatchObject({ state: 'PENDING', attempts: 0 });
        // other keys go on; the held key's tasks wait, in every app
        expect((await claim(other)).map((c) => c.id)).toEqual([unrelated!.id]);
        expect(await claim(b)).toHaveLength(0);
        const back = await claim(other, 10, 5000);
        const waited = Date.now() - started;
        expect(waited).toBeGreaterThanOrEqual(380);
        expect(waited).toBeLessThan(2500);
        expect(back.map((c) => c.id).sort()).toEqual([held!.id, sibling!.id].sort());
        expect(back.find((c) => c.id === held!.id)!.attempt).toBe(1);
      });

      it('a stale delivery holds nothing; a task without rate limits is due again at the time given', async () => {
        const b = (await setup()).app.backend;
        const [keyed, unkeyed] = await enqueueAll(b, [rated('s', 10, 60_000), newTask()]);
        const claimed = await claim(b);
        expect(claimed).toHaveLength(2);
        const done = claimed.find((c) => c.id === keyed!.id)!;
        await b.complete(done, '1');
        expect(await b.holdRateLimit!(done, Date.now() + 60_000)).toBe(false);
        // nothing was held: the key is free
        const [next] = await enqueueAll(b, [rated('s', 10, 60_000)]);
        expect((await claim(b)).map((c) => c.id)).toEqual([next!.id]);
        const plain = claimed.find((c) => c.id === unkeyed!.id)!;
        const started = Date.now();
        expect(await b.holdRateLimit!(plain, Date.now() + 300)).toBe(true);
        expect(await claim(b)).toHaveLength(0);
        const again = await claim(b, 10, 5000);
        expect(again.map((c) => c.id)).toEqual([plain.id]);
        expect(again[0]!.attempt).toBe(1);
        expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      });
    });
  });
}
