import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ClaimedTask, TaskInfo } from '../../../src/index.js';
import { waitFor } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** What Backend.enqueue stores and getInfo, claim and the status events give back, field by field. */
export function describeStorage(setup: Setup): void {
  describe('storage', () => {
    it('stores a task PENDING at version 1 with exactly the TaskInfo fields, readable from another app; null for an unknown id', async () => {
      const env = await setup();
      const task = newTask({ payload: '[1,"two"]', expiresAt: Date.now() + 60_000 });
      expect(await env.app.backend.enqueue(task)).toEqual({ id: task.id, created: true });
      expect(await env.otherApp().backend.getInfo(task.id)).toEqual({
        id: task.id,
        name: 'conf.add',
        queue: 'default',
        state: 'PENDING',
        version: 1,
        attempts: 0,
        retries: 0,
        enqueuedAt: task.enqueuedAt,
        runAt: task.runAt,
      });
      expect(await env.app.backend.getInfo(randomUUID())).toBeNull();
    });

    it('keeps odd ids, names, worker ids and JSON intact in events and reads', async () => {
      const b = (await setup()).app.backend;
      const t = newTask({
        id: `odd "id" \\ ${randomUUID()}`,
        name: 'émoji 🚀 "quoted" \\ name',
        queue: 'q:with|pipes',
        payload: '["\\u0000"]',
      });
      await b.enqueue(t);
      const seen: TaskInfo[] = [];
      await b.subscribeStatus(t.id, (i) => seen.push(i));
      const [c] = await b.claim(claimRequest('worker|with|pipes', { queues: [t.queue] }));
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

    it('keeps the trace context of a task and hands it back on every delivery and in its dead letter', async () => {
      const b = (await setup()).app.backend;
      const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 vendor=value';
      const traced = newTask({ trace });
      const plain = newTask();
      await b.enqueueMany([traced, plain]);
      const first = await b.claim(claimRequest('w1', { limit: 2 }));
      expect(first.find((c) => c.id === traced.id)!.trace).toBe(trace);
      expect(first.find((c) => c.id === plain.id)!.trace).toBeUndefined();
      const mine = first.find((c) => c.id === traced.id)!;
      expect(await b.retryLater(mine, { type: 'E', message: 'again' }, Date.now())).toBe(true);
      const [again] = await b.claim(claimRequest('w2', { limit: 1 }));
      expect(again).toMatchObject({ id: traced.id, attempt: 2, trace });
      expect(await b.deadLetter(again!, { type: 'DecodeError', message: 'x' })).toBe(true);
      const [letter] = await b.listDeadLetters(1);
      expect(letter).toMatchObject({ id: traced.id, trace });
    });

    it('countWaiting counts the PENDING and RETRY tasks of one queue, due or not', async () => {
      const b = (await setup()).app.backend;
      expect(await b.countWaiting('default')).toBe(0);
      const later = Date.now() + 60_000;
      await b.enqueueMany([newTask(), newTask(), newTask({ runAt: later }), newTask({ queue: 'other' })]);
      expect(await b.countWaiting('default')).toBe(3);
      expect(await b.countWaiting('other')).toBe(1);
      expect(await b.countWaiting('nowhere')).toBe(0);
      // Claimed tasks no longer wait; a retry waits again, even before it is due.
      const [c1, c2] = (await b.claim(claimRequest())) as [ClaimedTask, ClaimedTask];
      expect(await b.countWaiting('default')).toBe(1);
      expect(await b.retryLater(c1, { type: 'E', message: 'm' }, later)).toBe(true);
      expect(await b.countWaiting('default')).toBe(2);
      expect(await b.complete(c2, '1')).toBe(true);
      expect(await b.countWaiting('default')).toBe(2);
      // An idempotent duplicate stores nothing, so it adds nothing.
      await b.enqueue(newTask({ idempotencyKey: 'k' }));
      await b.enqueue(newTask({ idempotencyKey: 'k' }));
      expect(await b.countWaiting('default')).toBe(3);
    });
  });
}
