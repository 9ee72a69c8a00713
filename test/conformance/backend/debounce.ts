import { describe, expect, it } from 'vitest';
import type { Backend, ClaimedTask, Debounce, NewTask, TaskInfo } from '../../../src/index.js';
import { waitFor } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/**
 * NewTask.debounce (capabilities.debounce): an enqueue folds into the task
 * of its key that waits unstarted — due time moved (capped, and only while
 * not due), payload replaced when asked, published — and a task that has
 * been handed out, or run again by the admin API, takes no more. Racing
 * enqueues of two apps leave one task. Skipped on brokers without it.
 */
export function describeDebounce(setup: Setup, enabled: () => Promise<boolean>): void {
  describe('debounce', async () => {
    const on = await enabled();
    const debounced = (debounce: Partial<Debounce> & { key: string }, patch: Partial<NewTask> = {}): NewTask =>
      newTask({ debounce: { replace: true, ...debounce }, ...patch });
    const claim = (b: Backend, waitMs = 0): Promise<ClaimedTask[]> => b.claim(claimRequest('w1', { waitMs }));

    describe.skipIf(!on)('folding enqueues', () => {
      it('a later enqueue folds into the waiting task: same id, later due time, the last payload, version 2', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const first = debounced({ key: 'k' }, { runAt: t + 5_000, payload: '[1]' });
        expect(await b.enqueue(first)).toEqual({ id: first.id, created: true });
        const second = debounced({ key: 'k' }, { runAt: t + 8_000, payload: '[2]' });
        expect(await b.enqueue(second)).toEqual({ id: first.id, created: false });
        expect(await b.getInfo(second.id)).toBeNull();
        const info = (await b.getInfo(first.id))!;
        expect(info).toMatchObject({ state: 'PENDING', version: 2, runAt: t + 8_000, attempts: 0 });
        expect((await b.admin.getTask(first.id))?.payload).toBe('[2]');
        expect(await b.countWaiting('default')).toBe(1);
      });

      it('without replace the first payload stays; the due time still moves', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const first = debounced({ key: 'k', replace: false }, { runAt: t + 5_000, payload: '[1]' });
        await b.enqueue(first);
        await b.enqueue(debounced({ key: 'k', replace: false }, { runAt: t + 6_000, payload: '[2]' }));
        expect((await b.getInfo(first.id))?.runAt).toBe(t + 6_000);
        expect((await b.admin.getTask(first.id))?.payload).toBe('[1]');
      });

      it('the first task’s maxRunAt caps how far later enqueues push it', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const first = debounced({ key: 'k', maxRunAt: t + 7_000 }, { runAt: t + 5_000 });
        await b.enqueue(first);
        // a later enqueue's own cap does not lift the first one's
        await b.enqueue(debounced({ key: 'k', maxRunAt: t + 60_000 }, { runAt: t + 30_000 }));
        expect((await b.getInfo(first.id))?.runAt).toBe(t + 7_000);
        await b.enqueue(debounced({ key: 'k' }, { runAt: t + 6_000 }));
        expect((await b.getInfo(first.id))?.runAt).toBe(t + 6_000);
      });

      it('a task already due keeps its turn and runs with the last payload', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const first = debounced({ key: 'k' }, { runAt: t, payload: '[1]' });
        await b.enqueue(first);
        expect(await b.enqueue(debounced({ key: 'k' }, { runAt: t + 60_000, payload: '[2]' }))).toEqual({
          id: first.id,
          created: false,
        });
        expect((await b.getInfo(first.id))?.runAt).toBe(t);
        const [claimed] = await claim(b);
        expect(claimed).toMatchObject({ id: first.id, payload: '[2]', attempt: 1 });
      });

      it('a due time moved earlier is honoured: the task is claimable then', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const first = debounced({ key: 'k' }, { runAt: t + 60_000 });
        await b.enqueue(first);
        await b.enqueue(debounced({ key: 'k' }, { runAt: t + 200 }));
        expect(await claim(b)).toHaveLength(0);
        const [claimed] = await claim(b, 5_000);
        expect(claimed?.id).toBe(first.id);
      });

      it('other keys and tasks without a key are left alone', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const a = debounced({ key: 'a' }, { runAt: t + 5_000 });
        const plain = newTask({ runAt: t + 5_000 });
        await b.enqueue(a);
        await b.enqueue(plain);
        const other = debounced({ key: 'b' }, { runAt: t + 9_000 });
        expect(await b.enqueue(other)).toEqual({ id: other.id, created: true });
        expect((await b.getInfo(a.id))?.runAt).toBe(t + 5_000);
        expect((await b.getInfo(plain.id))?.version).toBe(1);
        expect(await b.countWaiting('default')).toBe(3);
      });

      it('in one batch, later items fold into the first: one task with the last payload', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const items = [1, 2, 3].map((n) => debounced({ key: 'k' }, { runAt: t + 1_000 * n, payload: `[${n}]` }));
        const outcomes = await b.enqueueMany(items);
        expect(outcomes).toEqual(items.map((_, i) => ({ id: items[0]!.id, created: i === 0 })));
        expect(await b.getInfo(items[0]!.id)).toMatchObject({ runAt: t + 3_000, version: 3 });
        expect((await b.admin.getTask(items[0]!.id))?.payload).toBe('[3]');
      });

      it('a watcher hears the fold as a change of the waiting task', async () => {
        const b = (await setup()).app.backend;
        const t = Date.now();
        const first = debounced({ key: 'k' }, { runAt: t + 5_000 });
        await b.enqueue(first);
        const heard: TaskInfo[] = [];
        const off = await b.subscribeStatus(first.id, (info) => heard.push(info));
        await b.enqueue(debounced({ key: 'k' }, { runAt: t + 6_000 }));
        await waitFor(() => heard.length > 0, 5_000);
        expect(heard[0]).toMatchObject({ id: first.id, state: 'PENDING', version: 2, runAt: t + 6_000 });
        await off();
      });
    });

    describe.skipIf(!on)('what no longer waits unstarted', () => {
      it('a task handed out takes no more enqueues, nor after a release: the next one is new', async () => {
        const b = (await setup()).app.backend;
        const first = debounced({ key: 'k' });
        await b.enqueue(first);
        const [claimed] = await claim(b);
        expect(claimed?.id).toBe(first.id);
        const second = debounced({ key: 'k' }, { runAt: Date.now() + 5_000 });
        expect(await b.enqueue(second)).toEqual({ id: second.id, created: true });
        // the second waits now; release the first (PENDING again, but it has run): the key stays with the second
        expect(await b.release(claimed!)).toBe(true);
        const third = debounced({ key: 'k' }, { runAt: Date.now() + 6_000 });
        expect(await b.enqueue(third)).toEqual({ id: second.id, created: false });
        expect((await b.getInfo(first.id))?.version).toBe(3);
      });

      it('a finished task run again by the admin API is no longer debounced', async () => {
        const b = (await setup()).app.backend;
        const first = debounced({ key: 'k' });
        await b.enqueue(first);
        const [claimed] = await claim(b);
        expect(await b.fail(claimed!, { type: 'E', message: 'm' })).toBe(true);
        expect(await b.admin.retryTasks([first.id])).toEqual([first.id]);
        const second = debounced({ key: 'k' }, { runAt: Date.now() + 5_000 });
        expect(await b.enqueue(second)).toEqual({ id: second.id, created: true });
        expect((await b.getInfo(first.id))?.runAt).toBeLessThanOrEqual(Date.now());
      });

      it('a revoked task takes no more enqueues', async () => {
        const b = (await setup()).app.backend;
        const first = debounced({ key: 'k' }, { runAt: Date.now() + 5_000 });
        await b.enqueue(first);
        await b.revoke(first.id);
        const second = debounced({ key: 'k' }, { runAt: Date.now() + 5_000 });
        expect(await b.enqueue(second)).toEqual({ id: second.id, created: true });
      });
    });

    describe.skipIf(!on)('across apps', () => {
      it('racing enqueues of one key from two apps leave one waiting task', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        const t = Date.now();
        const items = Array.from({ length: 20 }, (_, i) =>
          debounced({ key: 'race', maxRunAt: t + 60_000 }, { runAt: t + 10_000 + i, payload: `[${i}]` }),
        );
        const outcomes = await Promise.all(items.map((task, i) => (i % 2 === 0 ? b : other).enqueue(task)));
        expect(outcomes.filter((o) => o.created)).toHaveLength(1);
        const id = outcomes.find((o) => o.created)!.id;
        expect(new Set(outcomes.map((o) => o.id))).toEqual(new Set([id]));
        expect(await b.countWaiting('default')).toBe(1);
        expect((await b.getInfo(id))?.version).toBe(20);
      });
    });
  });
}
