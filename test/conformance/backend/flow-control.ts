import { describe, expect, it } from 'vitest';
import type { Backend, ClaimedTask, NewTask } from '../../../src/index.js';
import { delay } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/**
 * NewTask.limits and NewTask.group (capabilities.flowControl): at most
 * `limit` running tasks per key broker-wide, slots freed by every way out of
 * running, no head-of-line blocking across groups, groups round-robin.
 * Skipped on brokers without the capability (`enabled`, from a probe app).
 */
export function describeFlowControl(setup: Setup, enabled: () => Promise<boolean>): void {
  describe('flow control', async () => {
    const on = await enabled();
    const limited = (key: string, limit: number, patch: Partial<NewTask> = {}): NewTask =>
      newTask({ limits: [{ key, limit }], group: key, ...patch });
    const enqueueAll = async (b: Backend, tasks: NewTask[]): Promise<NewTask[]> => {
      await b.enqueueMany(tasks);
      return tasks;
    };
    const claim = (b: Backend, limit = 10, queues = ['default']): Promise<ClaimedTask[]> =>
      b.claim(claimRequest('w1', { limit, queues }));
    const error = { type: 'E', message: 'no' };

    describe.skipIf(!on)('concurrency limits', () => {
      it('a limit of 2 hands out at most 2 of a key, across claims and across apps on the broker', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        await enqueueAll(
          b,
          Array.from({ length: 6 }, () => limited('k', 2)),
        );
        expect(await claim(b, 1)).toHaveLength(1);
        expect(await claim(other, 10)).toHaveLength(1);
        expect(await claim(b, 10)).toHaveLength(0);
        expect(await claim(other, 10)).toHaveLength(0);
        // racing claims for freed slots still hand out no more than the limit
        await enqueueAll(
          b,
          Array.from({ length: 10 }, () => limited('r', 3)),
        );
        const raced = await Promise.all([claim(b), claim(other), claim(b), claim(other)]);
        expect(raced.flat()).toHaveLength(3);
      });

      it('a limit counts every task holding the key, whatever its group, queue or other limits', async () => {
        const env = await setup();
        const b = env.app.backend;
        await enqueueAll(b, [
          newTask({ limits: [{ key: 'shared', limit: 2 }], group: 'a' }),
          newTask({
            limits: [
              { key: 'shared', limit: 2 },
              { key: 'own', limit: 5 },
            ],
            group: 'b',
          }),
          newTask({ limits: [{ key: 'shared', limit: 2 }], queue: 'other' }),
          newTask({ limits: [{ key: 'own', limit: 5 }] }),
        ]);
        expect(await claim(b, 10, ['default', 'other'])).toHaveLength(3);
        expect(await claim(b, 10, ['default', 'other'])).toHaveLength(0);
      });

      const frees: Array<[string, (b: Backend, running: ClaimedTask) => Promise<unknown>]> = [
        ['complete', (b, t) => b.complete(t, '1')],
        ['fail', (b, t) => b.fail(t, error)],
        ['deadLetter', (b, t) => b.deadLetter(t, error)],
        ['retryLater', (b, t) => b.retryLater(t, error, Date.now() + 60_000)],
        ['release', (b, t) => b.release(t)],
        ['revoke', (b, t) => b.revoke(t.id)],
      ];
      for (const [how, end] of frees) {
        it(`the slot frees on ${how}`, async () => {
          const b = (await setup()).app.backend;
          const [, second] = await enqueueAll(b, [limited('k', 1), limited('k', 1)]);
          const [running] = await claim(b);
          expect(await claim(b)).toHaveLength(0);
          await end(b, running!);
          // a released task is due again first; either way exactly one holds the slot
          const next = await claim(b);
          expect(next).toHaveLength(1);
          if (how !== 'release') expect(next[0]!.id).toBe(second!.id);
          expect(await claim(b)).toHaveLength(0);
        });
      }

      it('the slot frees when the lease expires and rescueExpired takes the task back', async () => {
        const b = (await setup()).app.backend;
        await enqueueAll(b, [limited('k', 1), limited('k', 1)]);
        expect(await b.claim(claimRequest('w1', { leaseMs: 50 }))).toHaveLength(1);
        expect(await claim(b)).toHaveLength(0);
        await delay(100);
        expect(await b.rescueExpired()).toBe(1);
        expect(await claim(b)).toHaveLength(1);
        expect(await claim(b)).toHaveLength(0);
      });

      it('a claim waiting on a full key is handed the next task when a slot frees', async () => {
        const b = (await setup()).app.backend;
        const [, second] = await enqueueAll(b, [limited('k', 1), limited('k', 1)]);
        const [running] = await claim(b);
        const waiting = b.claim(claimRequest('w2', { waitMs: 5000 }));
        await delay(100);
        const started = Date.now();
        await b.complete(running!, '1');
        expect((await waiting).map((c) => c.id)).toEqual([second!.id]);
        expect(Date.now() - started).toBeLessThan(2000);
      });

      it('no head-of-line blocking: a full key holds up its own group only', async () => {
        const b = (await setup()).app.backend;
        const saturated = await enqueueAll(
          b,
          Array.from({ length: 500 }, () => limited('A', 1)),
        );
        const [free] = await enqueueAll(b, [limited('B', 1)]);
        expect((await claim(b)).map((c) => c.id)).toEqual([saturated[0]!.id, free!.id]);
        expect(await claim(b)).toHaveLength(0);
      });

      it('within a group, tasks wait behind a head whose limits are full (first in first out)', async () => {
        const b = (await setup()).app.backend;
        const [head, behind] = await enqueueAll(b, [
          newTask({ limits: [{ key: 'k', limit: 1 }], group: 'g' }),
          newTask({ group: 'g' }),
        ]);
        await enqueueAll(b, [newTask({ limits: [{ key: 'k', limit: 1 }], queue: 'other' })]);
        expect(await claim(b, 10, ['other'])).toHaveLength(1);
        expect(await claim(b)).toHaveLength(0);
        const [, plain] = await enqueueAll(b, [newTask({ group: 'h' }), newTask()]);
        // other groups (and the '' group of plain tasks) are served meanwhile
        const served = (await claim(b)).map((c) => c.id);
        expect(served).toHaveLength(2);
        expect(served).toContain(plain!.id);
        expect(served).not.toContain(head!.id);
        expect(served).not.toContain(behind!.id);
      });

      it('limits and group survive a retry', async () => {
        const b = (await setup()).app.backend;
        const [retried] = await enqueueAll(b, [newTask({ limits: [{ key: 'k', limit: 1 }], group: 'g' })]);
        const [first] = await claim(b, 1);
        expect(first!.id).toBe(retried!.id);
        expect(await b.retryLater(first!, error, Date.now())).toBe(true);
        const [behind] = await enqueueAll(b, [newTask({ group: 'g' })]);
        // another queue's task takes the key: the retried task is its group's head again, and blocked
        await enqueueAll(b, [newTask({ limits: [{ key: 'k', limit: 1 }], queue: 'other' })]);
        const [holder] = await claim(b, 1, ['other']);
        expect(await claim(b)).toHaveLength(0);
        await b.complete(holder!, '1');
        expect((await claim(b)).map((c) => c.id)).toEqual([retried!.id, behind!.id]);
      });
    });

    describe.skipIf(!on)('fair scheduling', () => {
      it('groups take turns: with 2 groups waiting, B waits at most 1 claim (all of B out before A’s 50th)', async () => {
        const b = (await setup()).app.backend;
        await enqueueAll(
          b,
          Array.from({ length: 1000 }, () => newTask({ group: 'A' })),
        );
        const late = new Set(
          (
            await enqueueAll(
              b,
              Array.from({ length: 10 }, () => newTask({ group: 'B' })),
            )
          ).map((t) => t.id),
        );
        const order: string[] = [];
        while ([...late].some((id) => !order.includes(id))) {
          const [one] = await claim(b, 1);
          order.push(one!.id);
        }
        const fromA = order.filter((id) => !late.has(id)).length;
        expect(fromA).toBeLessThan(50);
        // the bound: g groups waiting, at most g - 1 claims of others between two of a group
        let gap = 0;
        for (const id of order) {
          gap = late.has(id) ? 0 : gap + 1;
          expect(gap).toBeLessThanOrEqual(1);
        }
      });

      it('tasks without a group are one group of their own, and one claim of many takes groups in turn', async () => {
        const b = (await setup()).app.backend;
        const a = await enqueueAll(
          b,
          Array.from({ length: 4 }, () => newTask({ group: 'A' })),
        );
        await enqueueAll(
          b,
          Array.from({ length: 4 }, () => newTask()),
        );
        const c = await enqueueAll(
          b,
          Array.from({ length: 2 }, () => newTask({ group: 'C' })),
        );
        const name = (id: string): string => (a.some((t) => t.id === id) ? 'A' : c.some((t) => t.id === id) ? 'C' : 'P');
        const first = (await claim(b, 6)).map((t) => name(t.id));
        // each group once per round, then again
        expect(new Set(first.slice(0, 3)).size).toBe(3);
        expect(new Set(first.slice(3, 6)).size).toBe(3);
        expect((await claim(b, 10)).map((t) => name(t.id)).sort()).toEqual(['A', 'A', 'P', 'P']);
      });

      it('priority still comes first: groups take turns within one priority', async () => {
        const b = (await setup()).app.backend;
        const low = await enqueueAll(b, [newTask({ group: 'A' }), newTask({ group: 'B' })]);
        const high = await enqueueAll(b, [newTask({ group: 'A', priority: 5 }), newTask({ group: 'A', priority: 5 })]);
        expect((await claim(b)).map((t) => t.id)).toEqual([high[0]!.id, high[1]!.id, low[0]!.id, low[1]!.id]);
      });

      it('the rotation is the broker’s: claims of two apps take turns with each other', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        const a = await enqueueAll(
          b,
          Array.from({ length: 5 }, () => newTask({ group: 'A' })),
        );
        await enqueueAll(
          b,
          Array.from({ length: 5 }, () => newTask({ group: 'B' })),
        );
        const isA = (t: ClaimedTask): boolean => a.some((x) => x.id === t.id);
        const order: boolean[] = [];
        for (let i = 0; i < 6; i++) order.push(isA((await claim(i % 2 === 0 ? b : other, 1))[0]!));
        expect(order).toEqual([true, false, true, false, true, false]);
      });
    });
  });
}
