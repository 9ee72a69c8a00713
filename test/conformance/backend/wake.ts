import { describe, expect, it } from 'vitest';
import type { TaskInfo } from '../../../src/index.js';
import { waitFor } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/**
 * Backend.release with a due time and Backend.wake (capabilities.wake): what
 * ctx.waitFor suspends and resumes a task with. A released task waits until
 * its due time holding nothing; wake makes a waiting task due now,
 * published, waking claims in other apps. Skipped on brokers without wake.
 */
export function describeWake(setup: Setup, enabled: () => Promise<boolean>): void {
  describe('release until, and wake', async () => {
    const on = await enabled();

    describe.skipIf(!on)('suspend and resume', () => {
      it('release(task, runAt): PENDING until then, attempt not counted; wake makes it due now', async () => {
        const b = (await setup()).app.backend;
        const task = newTask();
        await b.enqueue(task);
        const [claimed] = await b.claim(claimRequest());
        const until = Date.now() + 60_000;
        expect(await b.release(claimed!, until)).toBe(true);
        expect(await b.getInfo(task.id)).toMatchObject({ state: 'PENDING', attempts: 0, runAt: until });
        expect(await b.claim(claimRequest())).toEqual([]);
        expect(await b.wake!(task.id)).toBe(true);
        const info = (await b.getInfo(task.id))!;
        expect(info.runAt).toBeLessThanOrEqual(Date.now());
        const [again] = await b.claim(claimRequest());
        expect(again).toMatchObject({ id: task.id, attempt: 1 });
      });

      it('wake publishes the change and keeps the priority', async () => {
        const b = (await setup()).app.backend;
        const later = newTask({ runAt: Date.now() + 60_000, priority: 5 });
        const now = newTask();
        await b.enqueueMany([now, later]);
        const heard: TaskInfo[] = [];
        const off = await b.subscribeStatus(later.id, (info) => heard.push(info));
        expect(await b.wake!(later.id)).toBe(true);
        await waitFor(() => heard.length > 0, 5_000);
        expect(heard[0]).toMatchObject({ id: later.id, state: 'PENDING', version: 2 });
        await off();
        const claimed = await b.claim(claimRequest());
        expect(claimed.map((c) => c.id)).toEqual([later.id, now.id]);
      });

      it('wake wakes a claim waiting in another app', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        const task = newTask({ runAt: Date.now() + 60_000 });
        await b.enqueue(task);
        const waiting = other.claim(claimRequest('w2', { waitMs: 20_000 }));
        await new Promise((r) => setTimeout(r, 200));
        const started = Date.now();
        expect(await b.wake!(task.id)).toBe(true);
        const claimed = await waiting;
        expect(claimed.map((c) => c.id)).toEqual([task.id]);
        // woken by the change, not by the end of the wait
        expect(Date.now() - started).toBeLessThan(15_000);
      });

      it('false for an unknown, running, due or finished task', async () => {
        const b = (await setup()).app.backend;
        expect(await b.wake!('no-such-task')).toBe(false);
        const due = newTask();
        const running = newTask();
        await b.enqueue(running);
        const [claimed] = await b.claim(claimRequest());
        await b.enqueue(due);
        expect(await b.wake!(running.id)).toBe(false);
        expect(await b.wake!(due.id)).toBe(false);
        expect(await b.complete(claimed!, '1')).toBe(true);
        expect(await b.wake!(running.id)).toBe(false);
        expect((await b.getInfo(due.id))?.version).toBe(1);
      });
    });
  });
}
