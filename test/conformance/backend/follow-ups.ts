import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Backend, ClaimedTask, FollowUp, NewTask } from '../../../src/index.js';
import { delay } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** Backend.enqueue's followUp: the task a terminal state creates, atomically, once. */
export function describeFollowUps(setup: Setup): void {
  describe('follow-ups', () => {
    const followUp = (patch: Partial<FollowUp> = {}): FollowUp => ({
      id: randomUUID(),
      name: 'conf.after',
      queue: 'after',
      payload: '["the-task",{"n":1}]',
      ...patch,
    });
    const claimOne = async (b: Backend, queue = 'default'): Promise<ClaimedTask> => {
      const [claimed] = await b.claim(claimRequest('w1', { queues: [queue], limit: 1 }));
      expect(claimed).toBeDefined();
      return claimed!;
    };
    const enqueueWith = async (b: Backend, patch: Partial<NewTask> = {}): Promise<{ task: NewTask; next: FollowUp }> => {
      const next = followUp();
      const task = newTask({ followUp: next, ...patch });
      expect((await b.enqueue(task)).created).toBe(true);
      return { task, next };
    };

    it('a success enqueues the follow-up, PENDING and due at once, with its own name, queue and payload', async () => {
      const b = (await setup()).app.backend;
      const { task, next } = await enqueueWith(b);
      expect(await b.getInfo(next.id)).toBeNull();
      const before = Date.now();
      expect(await b.complete(await claimOne(b), '3')).toBe(true);
      const info = await b.getInfo(next.id);
      expect(info).toMatchObject({ id: next.id, name: 'conf.after', queue: 'after', state: 'PENDING', version: 1, attempts: 0 });
      expect(info!.runAt).toBeGreaterThanOrEqual(before - 1000);
      expect(info!.runAt).toBeLessThanOrEqual(Date.now() + 1000);
      const claimed = await claimOne(b, 'after');
      expect(claimed).toMatchObject({ id: next.id, name: 'conf.after', payload: next.payload, attempt: 1 });
      expect((await b.getInfo(task.id))!.state).toBe('SUCCESS');
    });

    it('every terminal path enqueues it: failure, dead letter, revoke while pending or running, expiry', async () => {
      const b = (await setup()).app.backend;
      const error = { type: 'E', message: 'no' };
      const failed = await enqueueWith(b);
      expect(await b.fail(await claimOne(b), error)).toBe(true);
      const dead = await enqueueWith(b);
      expect(await b.deadLetter(await claimOne(b), error)).toBe(true);
      const revokedPending = await enqueueWith(b, { runAt: Date.now() + 60_000 });
      expect((await b.revoke(revokedPending.task.id))!.state).toBe('REVOKED');
      const revokedRunning = await enqueueWith(b);
      await claimOne(b);
      expect((await b.revoke(revokedRunning.task.id))!.state).toBe('REVOKED');
      const expired = await enqueueWith(b, { expiresAt: Date.now() + 20 });
      await delay(40);
      expect(await b.claim(claimRequest())).toEqual([]);
      expect((await b.getInfo(expired.task.id))!.state).toBe('REVOKED');
      for (const { next } of [failed, dead, revokedPending, revokedRunning, expired]) {
        expect((await b.getInfo(next.id))?.state).toBe('PENDING');
      }
      const ids = (await b.claim(claimRequest('w2', { queues: ['after'] }))).map((c) => c.id).sort();
      expect(ids).toEqual([failed, dead, revokedPending, revokedRunning, expired].map((x) => x.next.id).sort());
    });

    it('is not enqueued by progress, a retry, a release or a rescue, and only once at the end', async () => {
      const b = (await setup()).app.backend;
      const { next } = await enqueueWith(b);
      const first = await claimOne(b);
      expect(await b.recordProgress(first, { current: 1 })).toBe(true);
      expect(await b.retryLater(first, { type: 'E', message: 'again' }, Date.now())).toBe(true);
      const second = await claimOne(b);
      expect(await b.release(second)).toBe(true);
      const [third] = await b.claim(claimRequest('w1', { leaseMs: 1 }));
      await delay(10);
      expect(await b.rescueExpired()).toBe(1);
      expect(await b.getInfo(next.id)).toBeNull();
      const fourth = await claimOne(b);
      // the earlier delivery's success counts (first finisher wins); the live one is then stale
      expect(await b.complete(third!, '1')).toBe(true);
      expect(await b.complete(fourth, '2')).toBe(false);
      expect(await b.revoke(fourth.id)).toMatchObject({ state: 'SUCCESS' });
      expect(await b.claim(claimRequest('w2', { queues: ['after'] }))).toHaveLength(1);
      expect(await b.claim(claimRequest('w2', { queues: ['after'] }))).toEqual([]);
    });

    it('an id that already exists is left alone', async () => {
      const b = (await setup()).app.backend;
      const existing = newTask({ queue: 'after', payload: '["mine"]' });
      await b.enqueue(existing);
      await b.enqueue(newTask({ followUp: followUp({ id: existing.id, payload: '["theirs"]' }) }));
      expect(await b.complete(await claimOne(b), '1')).toBe(true);
      const claimed = await b.claim(claimRequest('w2', { queues: ['after'] }));
      expect(claimed.map((c) => [c.id, c.payload])).toEqual([[existing.id, '["mine"]']]);
    });

    it('wakes a claim waiting on its queue, in this process and in another', async () => {
      const env = await setup();
      const b = env.app.backend;
      const other = env.otherApp().backend;
      for (const waiter of [b, other]) {
        const { next } = await enqueueWith(b);
        const running = await claimOne(b);
        const waiting = waiter.claim(claimRequest('w2', { queues: ['after'], waitMs: 10_000 }));
        await delay(50); // the claim is asleep now
        const finished = Date.now();
        expect(await b.complete(running, '1')).toBe(true);
        const got = await waiting;
        expect(got.map((c) => c.id)).toEqual([next.id]);
        expect(Date.now() - finished).toBeLessThan(2000);
      }
    });

    it('wakes a claim waiting on its queue on expiry in a claim and on revoke too', async () => {
      const b = (await setup()).app.backend;
      const expiring = followUp();
      await b.enqueue(newTask({ expiresAt: Date.now() + 10, followUp: expiring }));
      await delay(20);
      const waiting = b.claim(claimRequest('w2', { queues: ['after'], waitMs: 10_000 }));
      await delay(50);
      const started = Date.now();
      expect(await b.claim(claimRequest())).toEqual([]);
      expect((await waiting).map((c) => c.id)).toEqual([expiring.id]);
      expect(Date.now() - started).toBeLessThan(1000);

      const revoked = followUp();
      const pending = newTask({ runAt: Date.now() + 60_000, followUp: revoked });
      await b.enqueue(pending);
      const again = b.claim(claimRequest('w2', { queues: ['after'], waitMs: 10_000 }));
      await delay(50);
      await b.revoke(pending.id);
      expect((await again).map((c) => c.id)).toEqual([revoked.id]);
    });

    it('a follow-up of a task whose lease expired is created once the rescued task ends, untagged', async () => {
      const b = (await setup()).app.backend;
      const next = followUp();
      const t = newTask({ followUp: next, tags: ['f'] });
      await b.enqueue(t);
      await b.claim(claimRequest('w1', { leaseMs: 1 }));
      await delay(10);
      expect(await b.rescueExpired()).toBe(1);
      expect(await b.getInfo(next.id)).toBeNull();
      const [again] = await b.claim(claimRequest('w2'));
      await b.fail(again!, { type: 'E', message: 'no' });
      expect(await b.getInfo(next.id)).toMatchObject({ state: 'PENDING', version: 1, queue: 'after' });
      expect((await b.getInfo(next.id))!.tags).toBeUndefined();
      const states = (await b.readTagFeed('f', 0, 10)).entries.map((e) => e.info.state);
      expect(states).toEqual(['FAILURE']);
      // a revoke after the end changes nothing and enqueues no second follow-up
      expect((await b.revoke(t.id))!.state).toBe('FAILURE');
      expect((await b.claim(claimRequest('w3', { queues: ['after'] }))).map((c) => c.id)).toEqual([next.id]);
      expect(await b.claim(claimRequest('w3', { queues: ['after'] }))).toEqual([]);
    });

    it('comes with enqueueMany too, and a follow-up of a batch item is created when that item ends', async () => {
      const b = (await setup()).app.backend;
      const nexts = [followUp(), followUp()];
      await b.enqueueMany([newTask({ followUp: nexts[0] }), newTask(), newTask({ followUp: nexts[1] })]);
      const claimed = await b.claim(claimRequest('w1', { limit: 3 }));
      expect(claimed).toHaveLength(3);
      for (const c of claimed) expect(await b.complete(c, '0')).toBe(true);
      const created = await b.claim(claimRequest('w2', { queues: ['after'] }));
      expect(created.map((c) => c.id).sort()).toEqual(nexts.map((n) => n.id).sort());
    });
  });
}
