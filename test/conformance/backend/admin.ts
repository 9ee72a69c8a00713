import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ClosedError,
  InvalidArgumentError,
  type Backend,
  type ClaimedTask,
  type NewTask,
  type TaskInfo,
} from '../../../src/index.js';
import { delay, waitFor } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** Backend.admin: the queries, operator actions and bookkeeping the dashboard and CLI are built on. */
export function describeAdmin(setup: Setup): void {
  describe('admin', () => {
    const error = { type: 'E', message: 'no' };
    const claimOne = async (b: Backend, queue = 'default'): Promise<ClaimedTask> => {
      const [claimed] = await b.claim(claimRequest('w1', { queues: [queue], limit: 1 }));
      expect(claimed).toBeDefined();
      return claimed!;
    };
    const enqueue = async (b: Backend, patch: Partial<NewTask> = {}): Promise<NewTask> => {
      const task = newTask(patch);
      expect((await b.enqueue(task)).created).toBe(true);
      return task;
    };
    const hear = async (b: Backend, id: string): Promise<TaskInfo[]> => {
      const heard: TaskInfo[] = [];
      await b.subscribeStatus(id, (info) => heard.push(info));
      return heard;
    };

    describe('queries', () => {
      it('overview counts each queue’s ready, scheduled and running tasks, its oldest ready one, and kept tasks by state', async () => {
        const b = (await setup()).app.backend;
        const t0 = Date.now();
        await enqueue(b, { queue: 'mail', runAt: t0 - 5000, enqueuedAt: t0 - 5000 });
        await enqueue(b, { queue: 'mail' });
        await enqueue(b, { queue: 'mail', runAt: t0 + 60_000 });
        await enqueue(b, { queue: 'busy' });
        await enqueue(b, { queue: 'busy' });
        await claimOne(b, 'busy');
        const done = await enqueue(b, { queue: 'done' });
        await b.complete(await claimOne(b, 'done'), '1');
        const { queues, states } = await b.admin.overview();
        const mail = queues.find((q) => q.queue === 'mail');
        expect(mail).toMatchObject({ ready: 2, scheduled: 1, running: 0, paused: false });
        expect(mail!.oldestReadyAt).toBeGreaterThanOrEqual(t0 - 5000 - 1000);
        expect(mail!.oldestReadyAt).toBeLessThanOrEqual(t0 - 4000);
        expect(queues.find((q) => q.queue === 'busy')).toMatchObject({ ready: 1, scheduled: 0, running: 1 });
        expect(queues.find((q) => q.queue === 'done')).toMatchObject({ ready: 0, scheduled: 0, running: 0 });
        expect(queues.find((q) => q.queue === 'done')!.oldestReadyAt).toBeUndefined();
        expect(queues.map((q) => q.queue)).toEqual([...queues.map((q) => q.queue)].sort());
        expect(states).toEqual({ PENDING: 4, STARTED: 1, PROGRESS: 0, RETRY: 0, SUCCESS: 1, FAILURE: 0, REVOKED: 0 });
        expect((await b.getInfo(done.id))!.state).toBe('SUCCESS');
      });

      it('lists tasks newest first, filtered by state, name, queue and enqueue time, and pages through all of them once', async () => {
        const b = (await setup()).app.backend;
        const t0 = Date.now() - 100_000;
        const made: NewTask[] = [];
        for (let i = 0; i < 25; i++) {
          // several share an enqueue time, so ties are broken by id
          const at = t0 + Math.floor(i / 3) * 1000;
          made.push(
            await enqueue(b, { name: i % 2 ? 'conf.odd' : 'conf.even', queue: i % 5 ? 'q1' : 'q2', enqueuedAt: at, runAt: at }),
          );
        }
        await b.fail(await claimOne(b, 'q1'), error);
        const byNewest = [...made].sort((x, y) => y.enqueuedAt - x.enqueuedAt || (x.id < y.id ? 1 : -1)).map((t) => t.id);

        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await b.admin.listTasks({ limit: 7, ...(cursor === undefined ? {} : { cursor }) });
          expect(page.tasks.length).toBeLessThanOrEqual(7);
          seen.push(...page.tasks.map((t) => t.id));
          cursor = page.next;
          pages++;
        } while (cursor !== undefined && pages < 10);
        expect(seen).toEqual(byNewest);
        expect(pages).toBe(4);

        const odd = await b.admin.listTasks({ name: 'conf.odd', limit: 100 });
        expect(odd.tasks.map((t) => t.id)).toEqual(byNewest.filter((id) => made.find((t) => t.id === id)!.name === 'conf.odd'));
        expect(odd.next).toBeUndefined();
        const q2 = await b.admin.listTasks({ queue: 'q2', limit: 100 });
        expect(q2.tasks).toHaveLength(5);
        expect(q2.tasks.every((t) => t.queue === 'q2')).toBe(true);
        const failed = await b.admin.listTasks({ state: 'FAILURE', limit: 100 });
        expect(failed.tasks).toHaveLength(1);
        expect(failed.tasks[0]).toMatchObject({ state: 'FAILURE', error });
        const window = await b.admin.listTasks({ since: t0 + 2000, until: t0 + 4000, limit: 100 });
        expect(window.tasks.map((t) => t.enqueuedAt).sort()).toEqual([2, 2, 2, 3, 3, 3].map((s) => t0 + s * 1000));
        const combined = await b.admin.listTasks({ state: 'PENDING', name: 'conf.even', queue: 'q2', limit: 100 });
        expect(combined.tasks.every((t) => t.state === 'PENDING' && t.name === 'conf.even' && t.queue === 'q2')).toBe(true);
        expect(combined.tasks.length).toBe(made.filter((t, i) => i % 2 === 0 && i % 5 === 0).length);
      });

      it('refuses a bad page size, state or cursor with an InvalidArgumentError naming the field', async () => {
        const b = (await setup()).app.backend;
        for (const [query, field] of [
          [{ limit: 0 }, 'limit'],
          [{ limit: 1001 }, 'limit'],
          [{ limit: 1.5 }, 'limit'],
          [{ limit: 10, state: 'DONE' }, 'state'],
          [{ limit: 10, cursor: 'garbage' }, 'cursor'],
        ] as const) {
          const failure = await b.admin.listTasks(query as never).catch((e: unknown) => e);
          expect(failure).toBeInstanceOf(InvalidArgumentError);
          expect((failure as InvalidArgumentError).field).toBe(field);
        }
      });

      it('getTask returns the info, the stored arguments, the trace and whether it was dead-lettered; null for an unknown id', async () => {
        const b = (await setup()).app.backend;
        const trace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
        const task = await enqueue(b, { payload: '[{"to":"a@example.com"},3]', trace });
        const record = await b.admin.getTask(task.id);
        expect(record).toMatchObject({ payload: task.payload, trace, deadLettered: false });
        expect(record!.info).toMatchObject({ id: task.id, state: 'PENDING', version: 1 });
        await b.deadLetter(await claimOne(b), error);
        expect(await b.admin.getTask(task.id)).toMatchObject({ deadLettered: true, info: { state: 'FAILURE', error } });
        expect(await b.admin.getTask(randomUUID())).toBeNull();
      });

      it('forgets expired tasks in every query', async () => {
        const env = await setup({ resultTtlMs: 300 });
        const b = env.app.backend;
        const task = await enqueue(b, { queue: 'gone' });
        await b.complete(await claimOne(b, 'gone'), '1');
        expect((await b.admin.listTasks({ queue: 'gone', limit: 10 })).tasks).toHaveLength(1);
        await delay(450);
        expect((await b.admin.listTasks({ queue: 'gone', limit: 10 })).tasks).toEqual([]);
        expect(await b.admin.getTask(task.id)).toBeNull();
        expect((await b.admin.overview()).states.SUCCESS).toBe(0);
        expect(await b.admin.retryTasks([task.id])).toEqual([]);
      });
    });

    describe('actions', () => {
      it('retryTasks runs a failed or revoked task again, with a new version its watchers hear; other states are left alone', async () => {
        const b = (await setup()).app.backend;
        const failed = await enqueue(b);
        await b.retryLater(await claimOne(b), error, Date.now());
        await b.fail(await claimOne(b), error);
        const revoked = await enqueue(b, { runAt: Date.now() + 60_000 });
        await b.revoke(revoked.id);
        const succeeded = await enqueue(b);
        await b.complete(await claimOne(b), '1');
        const waiting = await enqueue(b);
        const before = (await b.getInfo(failed.id))!;
        expect(before).toMatchObject({ state: 'FAILURE', attempts: 2, retries: 1 });
        const heard = await hear(b, failed.id);

        const moved = await b.admin.retryTasks([failed.id, revoked.id, succeeded.id, waiting.id, randomUUID()]);
        expect(moved.sort()).toEqual([failed.id, revoked.id].sort());
        const after = (await b.getInfo(failed.id))!;
        expect(after).toMatchObject({ state: 'PENDING', version: before.version + 1, attempts: 2, retries: 0 });
        expect(after.error).toBeUndefined();
        expect(after.finishedAt).toBeUndefined();
        expect(after.runAt).toBeLessThanOrEqual(Date.now());
        await waitFor(() => heard.some((i) => i.state === 'PENDING' && i.version === after.version));
        expect((await b.getInfo(succeeded.id))!.state).toBe('SUCCESS');

        const claimed = await b.claim(claimRequest('w2', { limit: 10 }));
        expect(claimed.map((c) => c.id).sort()).toEqual([failed.id, revoked.id, waiting.id].sort());
        expect(claimed.find((c) => c.id === failed.id)).toMatchObject({ attempt: 3, retries: 0, payload: failed.payload });
      });

      it('purgeQueue revokes the waiting tasks of one queue, due or not, and leaves running ones and other queues', async () => {
        const b = (await setup()).app.backend;
        const running = await enqueue(b, { queue: 'bulk' });
        await claimOne(b, 'bulk');
        const due = await enqueue(b, { queue: 'bulk' });
        const later = await enqueue(b, { queue: 'bulk', runAt: Date.now() + 60_000 });
        const other = await enqueue(b, { queue: 'keep' });
        const heard = await hear(b, due.id);
        expect(await b.admin.purgeQueue('bulk')).toBe(2);
        expect((await b.getInfo(due.id))!.state).toBe('REVOKED');
        expect((await b.getInfo(later.id))!.state).toBe('REVOKED');
        expect((await b.getInfo(running.id))!.state).toBe('STARTED');
        expect((await b.getInfo(other.id))!.state).toBe('PENDING');
        await waitFor(() => heard.some((i) => i.state === 'REVOKED'));
        expect(await b.claim(claimRequest('w2', { queues: ['bulk'] }))).toEqual([]);
        expect(await b.admin.purgeQueue('bulk')).toBe(0);
        expect(await b.admin.purgeQueue('no-such-queue')).toBe(0);
      });

      it('a paused queue hands out nothing, in any app on the broker, while other queues are served; resume gives it back', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        const held = await enqueue(b, { queue: 'held' });
        const free = await enqueue(b, { queue: 'free' });
        await b.admin.setQueuePaused('held', true);
        await b.admin.setQueuePaused('held', true);
        await b.admin.setQueuePaused('alpha', true);
        expect(await other.admin.pausedQueues()).toEqual(['alpha', 'held']);
        const claimed = await other.claim(claimRequest('w2', { queues: ['held', 'free'] }));
        expect(claimed.map((c) => c.id)).toEqual([free.id]);
        const late = await enqueue(b, { queue: 'held' });
        expect(await other.claim(claimRequest('w2', { queues: ['held'], waitMs: 300 }))).toEqual([]);
        const overview = await other.admin.overview();
        expect(overview.queues.find((q) => q.queue === 'held')).toMatchObject({ paused: true, ready: 2 });
        expect(overview.queues.find((q) => q.queue === 'alpha')).toMatchObject({ paused: true, ready: 0 });
        await other.admin.setQueuePaused('held', false);
        expect(await b.admin.pausedQueues()).toEqual(['alpha']);
        const resumed = await b.claim(claimRequest('w1', { queues: ['held'] }));
        expect(resumed.map((c) => c.id).sort()).toEqual([held.id, late.id].sort());
      });

      it('a claim waiting on a paused queue is woken when another app resumes it, not at the end of its wait', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        await b.admin.setQueuePaused('held', true);
        const task = await enqueue(b, { queue: 'held' });
        const waiting = b.claim(claimRequest('w1', { queues: ['held'], waitMs: 20_000 }));
        await new Promise((r) => setTimeout(r, 200));
        const started = Date.now();
        await other.admin.setQueuePaused('held', false);
        expect((await waiting).map((c) => c.id)).toEqual([task.id]);
        expect(Date.now() - started).toBeLessThan(15_000);
      });

      it('retryDeadLetters removes the letter and runs the task again; dropDeadLetters only removes it', async () => {
        const b = (await setup()).app.backend;
        const again = await enqueue(b, { payload: '["again"]' });
        await b.deadLetter(await claimOne(b), error);
        const dropped = await enqueue(b, { payload: '["dropped"]' });
        await b.deadLetter(await claimOne(b), error);
        expect((await b.listDeadLetters(10)).map((d) => d.id).sort()).toEqual([again.id, dropped.id].sort());

        expect(await b.admin.retryDeadLetters([again.id, randomUUID()])).toEqual([again.id]);
        expect((await b.listDeadLetters(10)).map((d) => d.id)).toEqual([dropped.id]);
        expect((await b.getInfo(again.id))!.state).toBe('PENDING');
        expect((await b.admin.getTask(again.id))!.deadLettered).toBe(false);
        expect(await claimOne(b)).toMatchObject({ id: again.id, payload: '["again"]' });

        expect(await b.admin.dropDeadLetters([dropped.id, randomUUID()])).toBe(1);
        expect(await b.listDeadLetters(10)).toEqual([]);
        expect((await b.getInfo(dropped.id))!.state).toBe('FAILURE');
        expect(await b.admin.dropDeadLetters([dropped.id])).toBe(0);
      });

      it('a dead letter whose task record expired comes back as a new PENDING task with its id, name, queue, payload and trace', async () => {
        const env = await setup({ resultTtlMs: 300 });
        const b = env.app.backend;
        const trace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
        const task = await enqueue(b, { name: 'conf.letter', queue: 'letters', payload: '[7]', trace });
        await b.deadLetter(await claimOne(b, 'letters'), error);
        await delay(450);
        await b.prune();
        expect(await b.getInfo(task.id)).toBeNull();
        expect(await b.admin.retryDeadLetters([task.id])).toEqual([task.id]);
        expect(await b.getInfo(task.id)).toMatchObject({
          id: task.id,
          name: 'conf.letter',
          queue: 'letters',
          state: 'PENDING',
          version: 1,
        });
        expect(await claimOne(b, 'letters')).toMatchObject({
          id: task.id,
          name: 'conf.letter',
          payload: '[7]',
          trace,
          attempt: 1,
        });
      });
    });

    describe('bookkeeping', () => {
      it('records: put replaces, listed by kind and id prefix in id order, gone after their ttl or a delete', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        await b.admin.putRecords(
          'worker',
          [
            { id: 'w-b', json: '{"n":1}' },
            { id: 'w-a', json: '{"n":2}' },
          ],
          60_000,
        );
        await other.admin.putRecords('worker', [{ id: 'w-b', json: '{"n":3}' }], 60_000);
        await b.admin.putRecords('attempt', [{ id: 'w-c', json: '{}' }], 60_000);
        await b.admin.putRecords('worker', [{ id: 'x-short', json: '{}' }], 200);
        expect(await other.admin.listRecords('worker')).toEqual([
          { id: 'w-a', json: '{"n":2}' },
          { id: 'w-b', json: '{"n":3}' },
          { id: 'x-short', json: '{}' },
        ]);
        expect((await b.admin.listRecords('worker', 'w-')).map((r) => r.id)).toEqual(['w-a', 'w-b']);
        await delay(350);
        expect((await b.admin.listRecords('worker')).map((r) => r.id)).toEqual(['w-a', 'w-b']);
        await other.admin.deleteRecord('worker', 'w-a');
        await other.admin.deleteRecord('worker', 'never');
        expect(await b.admin.listRecords('worker')).toEqual([{ id: 'w-b', json: '{"n":3}' }]);
        expect(await b.admin.listRecords('nothing')).toEqual([]);
      });

      it('counts: increments from several apps add up per bucket, read oldest first from a time, dropped after retention', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        const minute = 60_000;
        const now = Math.floor(Date.now() / minute) * minute;
        await b.admin.addCounts(now - 2 * minute, { 'ok:a': 1 }, 24 * 60 * minute);
        await b.admin.addCounts(now, { 'ok:a': 2, 'fail:a': 1 }, 24 * 60 * minute);
        await other.admin.addCounts(now, { 'ok:a': 3, 'ok:b': 1 }, 24 * 60 * minute);
        await other.admin.addCounts(now - minute, { 'ok:a': 5 }, 24 * 60 * minute);
        await b.admin.addCounts(Date.now() - 10_000, { old: 1 }, 5000);
        expect(await other.admin.readCounts(now - minute)).toEqual([
          { bucket: now - minute, counts: { 'ok:a': 5 } },
          { bucket: now, counts: { 'ok:a': 5, 'fail:a': 1, 'ok:b': 1 } },
        ]);
        const all = await b.admin.readCounts(0);
        expect(all.map((c) => c.bucket)).toEqual([now - 2 * minute, now - minute, now]);
      });

      it('logs keep their newest entries and read newest first', async () => {
        const env = await setup();
        const b = env.app.backend;
        const other = env.otherApp().backend;
        for (let i = 1; i <= 6; i++) await (i % 2 ? b : other).admin.appendLog('actions', JSON.stringify({ i }), 4);
        await b.admin.appendLog('elsewhere', '{}', 4);
        expect(await other.admin.readLog('actions', 10)).toEqual(['{"i":6}', '{"i":5}', '{"i":4}', '{"i":3}']);
        expect(await b.admin.readLog('actions', 2)).toEqual(['{"i":6}', '{"i":5}']);
        expect(await b.admin.readLog('actions', 0)).toEqual([]);
        expect(await b.admin.readLog('none', 5)).toEqual([]);
      });

      it('every admin call throws ClosedError after close', async () => {
        const env = await setup();
        const b = env.otherApp().backend;
        await b.close();
        await expect(b.admin.overview()).rejects.toBeInstanceOf(ClosedError);
        await expect(b.admin.listTasks({ limit: 1 })).rejects.toBeInstanceOf(ClosedError);
        await expect(b.admin.putRecords('k', [{ id: 'a', json: '{}' }], 1000)).rejects.toBeInstanceOf(ClosedError);
        await expect(b.admin.readLog('k', 1)).rejects.toBeInstanceOf(ClosedError);
      });
    });
  });
}
