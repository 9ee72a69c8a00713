import { describe, expect, it } from 'vitest';
import type { Backend, NewTask } from '../../../src/index.js';
import { delay } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** NewTask.priority: higher first within a queue, FIFO within a priority, kept across retries. */
export function describePriorities(setup: Setup): void {
  describe('priorities', () => {
    const enqueueAll = async (b: Backend, patches: Array<Partial<NewTask>>): Promise<NewTask[]> => {
      const tasks: NewTask[] = [];
      for (const patch of patches) {
        const task = newTask(patch);
        await b.enqueue(task);
        tasks.push(task);
      }
      return tasks;
    };
    const claimedIds = async (b: Backend, queues = ['default'], limit = 20): Promise<string[]> =>
      (await b.claim(claimRequest('w1', { queues, limit }))).map((c) => c.id);

    it('hands out the highest priority first, and in enqueue order within one priority', async () => {
      const b = (await setup()).app.backend;
      const [p0a, p5a, m3, p5b, p10, p0b] = await enqueueAll(
        b,
        [0, 5, -3, 5, 10, undefined].map((priority) => (priority === undefined ? {} : { priority })),
      );
      expect(await claimedIds(b)).toEqual([p10!.id, p5a!.id, p5b!.id, p0a!.id, p0b!.id, m3!.id]);
    });

    it('one claim of a few takes them from the top, the next claim goes on below', async () => {
      const b = (await setup()).app.backend;
      const tasks = await enqueueAll(
        b,
        [1, 2, 3, 4, 5, 6].map((priority) => ({ priority })),
      );
      expect(await claimedIds(b, ['default'], 2)).toEqual([tasks[5]!.id, tasks[4]!.id]);
      const late = await enqueueAll(b, [{ priority: 100 }, { priority: -100 }]);
      expect(await claimedIds(b, ['default'], 3)).toEqual([late[0]!.id, tasks[3]!.id, tasks[2]!.id]);
      expect(await claimedIds(b)).toEqual([tasks[1]!.id, tasks[0]!.id, late[1]!.id]);
    });

    it('priority orders a queue only: queues are still taken in the order the claim lists them', async () => {
      const b = (await setup()).app.backend;
      const [high] = await enqueueAll(b, [{ queue: 'second', priority: 1000 }]);
      const [low] = await enqueueAll(b, [{ queue: 'first', priority: -1000 }]);
      expect(await claimedIds(b, ['first', 'second'])).toEqual([low!.id, high!.id]);
    });

    it('a task due later, a retried one and a released one keep their priority when they come back', async () => {
      const b = (await setup()).app.backend;
      const [retried, released] = await enqueueAll(b, [{ priority: 7 }, { priority: 6 }]);
      const [first, second] = await b.claim(claimRequest('w1', { limit: 2 }));
      expect([first!.id, second!.id]).toEqual([retried!.id, released!.id]);
      const plain = await enqueueAll(b, [{}, {}]);
      const [later] = await enqueueAll(b, [{ priority: 9, runAt: Date.now() + 150 }]);
      expect(await b.retryLater(first!, { type: 'E', message: 'again' }, Date.now())).toBe(true);
      expect(await b.release(second!)).toBe(true);
      await delay(200);
      expect(await claimedIds(b)).toEqual([later!.id, retried!.id, released!.id, plain[0]!.id, plain[1]!.id]);
    });

    it('a retried (rerun) finished task keeps its priority too', async () => {
      const b = (await setup()).app.backend;
      const [high] = await enqueueAll(b, [{ priority: 3 }]);
      const [claimed] = await b.claim(claimRequest('w1', { limit: 1 }));
      await b.fail(claimed!, { type: 'E', message: 'no' });
      const [plain] = await enqueueAll(b, [{}]);
      expect(await b.admin.retryTasks([high!.id])).toEqual([high!.id]);
      expect(await claimedIds(b)).toEqual([high!.id, plain!.id]);
    });
  });
}
