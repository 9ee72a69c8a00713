import { describe, expect, it } from 'vitest';
import type { ClaimedTask } from '../../../src/index.js';
import { delay } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/**
 * What the broker does with a delivery (a ClaimedTask): a stale one (other
 * worker, other attempt, finished, revoked, or taken over after its lease
 * expired) is refused, an earlier delivery's success still counts once,
 * release and retryLater put the task back.
 */
export function describeDeliveries(setup: Setup): void {
  describe('deliveries', () => {
    it('refuses stale deliveries: other worker, other attempt, finished, revoked', async () => {
      const b = (await setup()).app.backend;
      const [t1, t2] = [newTask(), newTask()];
      await b.enqueueMany([t1, t2]);
      const [c1, c2] = (await b.claim(claimRequest('w1'))) as [ClaimedTask, ClaimedTask];
      expect(await b.complete({ ...c1, workerId: 'other' }, '1')).toBe(false);
      expect(await b.complete({ ...c1, attempt: 2 }, '1')).toBe(false);
      expect(await b.recordProgress({ ...c1, workerId: 'other' }, { current: 1 })).toBe(false);
      expect(await b.fail({ ...c1, attempt: 7 }, { type: 'E', message: 'm' })).toBe(false);
      expect(await b.complete(c1, '1')).toBe(true);
      expect((await b.getInfo(c1.id))!.state).toBe('SUCCESS');
      expect(await b.complete(c1, '2')).toBe(false);
      expect(await b.release(c1)).toBe(false);
      expect(await b.retryLater(c1, { type: 'E', message: 'm' }, Date.now())).toBe(false);
      expect((await b.revoke(c2.id))!.state).toBe('REVOKED');
      expect(await b.complete(c2, '1')).toBe(false);
      expect(await b.deadLetter(c2, { type: 'E', message: 'm' })).toBe(false);
      expect(await b.extendLeases([c1, c2], 1000)).toEqual([c1.id, c2.id]);
    });

    it('an earlier delivery whose lease expired: its success counts once, its failure does not', async () => {
      const b = (await setup()).app.backend;
      const [t1, t2] = [newTask(), newTask()];
      await b.enqueueMany([t1, t2]);
      const first = await b.claim(claimRequest('w1', { leaseMs: 1 }));
      expect(first).toHaveLength(2);
      const [a1, b1] = first as [ClaimedTask, ClaimedTask];
      await delay(10);
      expect(await b.rescueExpired()).toBe(2);
      const again = await b.claim(claimRequest('w2'));
      const a2 = again.find((c) => c.id === a1.id)!;
      const b2 = again.find((c) => c.id === b1.id)!;
      expect(a2).toMatchObject({ attempt: 2, workerId: 'w2' });
      // Only a success counts from the earlier delivery; the live one decides failures.
      expect(await b.fail(a1, { type: 'E', message: 'stale failure' })).toBe(false);
      expect(await b.recordProgress(a1, { current: 1 })).toBe(false);
      expect(await b.retryLater(a1, { type: 'E', message: 'm' }, Date.now())).toBe(false);
      expect(await b.release(a1)).toBe(false);
      expect(await b.deadLetter(a1, { type: 'E', message: 'm' })).toBe(false);
      expect(await b.listDeadLetters(10)).toEqual([]);
      expect(await b.complete(a1, '"first"')).toBe(true);
      expect(await b.getInfo(a1.id)).toMatchObject({ state: 'SUCCESS', result: 'first', attempts: 2 });
      // First finisher wins: the live delivery is now stale, and learns it from its renewal.
      expect(await b.complete(a2, '"second"')).toBe(false);
      expect(await b.extendLeases([a2, b2], 30_000)).toEqual([a2.id]);
      expect((await b.getInfo(a1.id))!.result).toBe('first');
      // A forged delivery (a later attempt, or another worker on the live attempt) never counts.
      expect(await b.complete({ ...b2, attempt: 3 }, '"x"')).toBe(false);
      expect(await b.complete({ ...b2, workerId: 'w3' }, '"x"')).toBe(false);
      expect(await b.complete(b2, '"live"')).toBe(true);
      expect(await b.complete(b1, '"late"')).toBe(false);
      expect((await b.getInfo(b1.id))!.result).toBe('live');
      // A task that finished as a success is not handed out again.
      expect(await b.claim(claimRequest('w3'))).toEqual([]);
    });

    it('an earlier delivery succeeding while the task waits in the queue again: it is not run again', async () => {
      const b = (await setup()).app.backend;
      const t = newTask();
      await b.enqueue(t);
      const [c1] = await b.claim(claimRequest('w1', { leaseMs: 1 }));
      await delay(10);
      expect(await b.rescueExpired()).toBe(1);
      expect((await b.getInfo(t.id))!.state).toBe('PENDING');
      expect(await b.complete(c1!, '7')).toBe(true);
      expect(await b.getInfo(t.id)).toMatchObject({ state: 'SUCCESS', result: 7 });
      expect(await b.claim(claimRequest('w2'))).toEqual([]);
    });

    it('release puts a task back, due now, without counting the attempt', async () => {
      const b = (await setup()).app.backend;
      const t = newTask();
      await b.enqueue(t);
      const [c] = await b.claim(claimRequest());
      expect(await b.release(c!)).toBe(true);
      const info = await b.getInfo(c!.id);
      expect(info).toMatchObject({ state: 'PENDING', attempts: 0, version: 3 });
      expect(info!.runAt).toBeGreaterThanOrEqual(t.runAt);
      const [again] = await b.claim(claimRequest());
      expect(again).toMatchObject({ id: t.id, attempt: 1 });
    });

    it('retryLater keeps the task out of the ready queue until due, with the error and retries + 1', async () => {
      const b = (await setup()).app.backend;
      await b.enqueue(newTask());
      const [c] = await b.claim(claimRequest());
      const runAt = Date.now() + 200;
      expect(await b.retryLater(c!, { type: 'Flaky', message: 'again' }, runAt)).toBe(true);
      const info = await b.getInfo(c!.id);
      expect(info).toMatchObject({ state: 'RETRY', retries: 1, runAt, error: { type: 'Flaky', message: 'again' } });
      expect(await b.claim(claimRequest())).toEqual([]);
      const [again] = await b.claim(claimRequest('w1', { waitMs: 3000 }));
      expect(Date.now()).toBeGreaterThanOrEqual(runAt);
      expect(again).toMatchObject({ id: c!.id, attempt: 2, retries: 1 });
      expect(await b.claim(claimRequest())).toEqual([]);
    });

    it('extendLeases keeps a live lease from being rescued', async () => {
      const b = (await setup()).app.backend;
      await b.enqueue(newTask());
      const [claimed] = await b.claim(claimRequest('w1', { leaseMs: 100 }));
      await delay(50);
      expect(await b.extendLeases([claimed!], 60_000)).toEqual([]);
      await delay(100);
      expect(await b.rescueExpired()).toBe(0);
      expect((await b.getInfo(claimed!.id))!.state).toBe('STARTED');
    });
  });
}
