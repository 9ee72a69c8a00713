import { describe, expect, it } from 'vitest';
import type { Aging, Backend, NewTask } from '../../../src/index.js';
import { delay } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/**
 * NewTask.aging and Backend.agePriorities (capabilities.aging): a waiting
 * due task is raised by the raises it is owed since it became due (or was
 * last raised), capped at max, once however many sweepers run; running
 * tasks are not raised, a retried one keeps what it reached. Observed
 * through claim order, with priorities far enough apart that where a raised
 * task lands within its new priority (the broker's choice) does not matter.
 * Skipped on brokers without the capability.
 */
export function describeAging(setup: Setup, enabled: () => Promise<boolean>): void {
  describe('priority aging', async () => {
    const on = await enabled();
    const aging = (rule: Partial<Aging>, patch: Partial<NewTask> = {}): NewTask =>
      newTask({ aging: { everyMs: 1_000, step: 1, max: 1_000, ...rule }, ...patch });
    const order = async (b: Backend, n: number): Promise<string[]> => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push(...(await b.claim(claimRequest('w1', { limit: 1 }))).map((c) => c.id));
      return ids;
    };

    describe.skipIf(!on)('raises', () => {
      it('a task due for 3.5 periods is raised 3 steps: above priority 2, below 4', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const aged = aging({}, { runAt: t - 3_500 });
        const low = newTask({ priority: 2 });
        const high = newTask({ priority: 4 });
        await b.enqueueMany([aged, low, high]);
        expect(await b.agePriorities!()).toBe(1);
        expect(await order(b, 3)).toEqual([high.id, aged.id, low.id]);
      });

      it('max caps the raises', async () => {
        const b = (await setup()).app.backend;
        const aged = aging({ step: 5, max: 7 }, { runAt: Date.now() - 10_000 });
        const above = newTask({ priority: 8 });
        const below = newTask({ priority: 6 });
        await b.enqueueMany([below, aged, above]);
        await b.agePriorities!();
        expect(await order(b, 3)).toEqual([above.id, aged.id, below.id]);
        // at max: nothing more to raise, ever
        expect(await b.agePriorities!()).toBe(0);
      });

      it('two apps sweeping at once raise a task once', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        const aged = aging({}, { runAt: Date.now() - 3_500 });
        const above = newTask({ priority: 4 });
        const below = newTask({ priority: 2 });
        await b.enqueueMany([aged, above, below]);
        const raised = await Promise.all([b.agePriorities!(), other.agePriorities!(), b.agePriorities!()]);
        expect(raised.reduce((x, y) => x + y, 0)).toBe(1);
        expect(await order(b, 3)).toEqual([above.id, aged.id, below.id]);
      });

      it('a task that became due while nobody claimed is raised from then, and handed out once', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const aged = aging({ everyMs: 400 }, { runAt: t + 200 });
        const plain = newTask({ priority: 1 });
        await b.enqueueMany([aged, plain]);
        expect(await b.agePriorities!()).toBe(0);
        // owed two raises at 1,000 ms after its due time (200 ms from now): the sweep runs between 1,000 and 1,200
        await delay(Math.max(0, t + 1_050 - Date.now()));
        expect(await b.agePriorities!()).toBe(1);
        expect(await order(b, 3)).toEqual([aged.id, plain.id]);
      });
    });

    describe.skipIf(!on)('what is not raised', () => {
      it('tasks not due yet, and tasks without aging', async () => {
        const b = (await setup()).app.backend;
        const later = aging({}, { runAt: Date.now() + 60_000 });
        const plain = newTask({ runAt: Date.now() - 10_000 });
        await b.enqueueMany([later, plain]);
        expect(await b.agePriorities!()).toBe(0);
        expect(await order(b, 2)).toEqual([plain.id]);
      });

      it('a running task is not raised; retried, it keeps the priority it reached and starts over', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const aged = aging({ step: 2 }, { runAt: t - 2_500 });
        await b.enqueue(aged);
        expect(await b.agePriorities!()).toBe(1); // priority 4
        const [claimed] = await b.claim(claimRequest());
        expect(claimed?.id).toBe(aged.id);
        expect(await b.agePriorities!()).toBe(0);
        expect(await b.retryLater(claimed!, { type: 'E', message: 'm' }, Date.now())).toBe(true);
        const below = newTask({ priority: 3 });
        const above = newTask({ priority: 5 });
        await b.enqueueMany([below, above]);
        // due again just now: owed nothing yet
        expect(await b.agePriorities!()).toBe(0);
        expect(await order(b, 3)).toEqual([above.id, aged.id, below.id]);
      });
    });
  });
}
