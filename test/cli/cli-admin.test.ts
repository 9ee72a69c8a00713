import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';
import { describeEachBroker } from '../support/brokers.js';
import { waitFor } from '../support/wait.js';
import { APP, errand, start } from './run-cli.js';

/** The inspect and control commands, spawned against a real broker. */
describeEachBroker(
  'errand CLI operations',
  (target) => {
    const url = target.makeUrl('cli-admin');
    let app: Errand;
    // made in beforeAll, so a run that skips these tests opens nothing
    beforeAll(() => {
      app = createApp({ broker: url, logger: false });
    });
    afterAll(async () => {
      await app.close();
      await target.cleanup?.(url);
    });
    const json = async <T>(args: string[]): Promise<T> => {
      const run = await errand([...args, '--json', '--broker', url]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return JSON.parse(run.stdout) as T;
    };

    it('inspect shows queues, the live worker and the app’s schedules; tasks lists and filters', async () => {
      const worker = await start(['worker', '--app', APP, '--broker', url, '--queues', 'default,mail'], /running/);
      const done = await app.sendTask('cli.add', [1, 2]);
      await done.get({ timeout: 10_000 });
      await app.sendTask('cli.add', [3, 4], { queue: 'later', countdown: 60_000 });
      await waitFor(async () => (await app.admin.workers()).length === 1, 10_000);

      const view = await json<{
        queues: Array<{ queue: string; scheduled: number }>;
        workers: Array<{ queues: string[] }>;
        schedules: unknown[];
      }>(['inspect', '--app', APP]);
      expect(view.queues.find((q) => q.queue === 'later')).toMatchObject({ scheduled: 1 });
      expect(view.workers).toHaveLength(1);
      expect(view.workers[0]!.queues).toEqual(['default', 'mail']);
      expect(view.schedules).toEqual([expect.objectContaining({ name: 'cli.every', task: 'cli.tick', spec: 'every 200 ms' })]);
      const human = await errand(['inspect', '--broker', url]);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^queues:\n/);
      expect(human.stdout).toMatch(/\n {2}later {2}ready 0 {2}scheduled 1 {2}running 0\n/);
      expect(human.stdout).toMatch(/\nworkers: 1\n/);

      const page = await json<{ tasks: Array<{ id: string; state: string }> }>([
        'tasks',
        '--state',
        'success',
        '--name',
        'cli.add',
      ]);
      expect(page.tasks.map((t) => t.id)).toContain(done.id);
      expect(page.tasks.every((t) => t.state === 'SUCCESS')).toBe(true);
      const first = await json<{ tasks: unknown[]; next?: string }>(['tasks', '--limit', '1']);
      expect(first.tasks).toHaveLength(1);
      const second = await json<{ tasks: Array<{ id: string }> }>(['tasks', '--limit', '1', '--cursor', first.next!]);
      expect(second.tasks).toHaveLength(1);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }, 60_000);

    it('pause, purge, retry, and dead-letters retry and drop; each lands in the action log as cli', async () => {
      const queue = `q-${randomUUID().slice(0, 8)}`;
      expect(await json(['pause', '--queue', queue])).toEqual({ queue, paused: true });
      expect((await app.admin.overview()).paused).toContain(queue);
      await Promise.all([app.sendTask('cli.add', [1, 1], { queue }), app.sendTask('cli.add', [1, 1], { queue })]);
      const refused = await errand(['purge', '--queue', queue, '--broker', url]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^errand: refusing to purge without confirmation: pass --yes/);
      expect(await json(['purge', '--queue', queue, '--yes'])).toEqual({ purged: 2 });
      expect(await json(['resume', '--queue', queue])).toEqual({ queue, paused: false });

      const revoked = await app.sendTask('cli.add', [2, 2], { countdown: 60_000 });
      await app.admin.revoke({ ids: [revoked.id] });
      expect(await json(['retry', revoked.id])).toEqual({ retried: 1 });
      expect((await revoked.info())!.state).toBe('PENDING');
      const again = await errand(['retry', revoked.id, '--broker', url]);
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(`errand: task ${revoked.id} is PENDING: only FAILURE or REVOKED tasks can be retried\n`);
      await app.admin.revoke({ ids: [revoked.id] });
      expect(await json(['retry', '--state', 'REVOKED', '--name', 'cli.add'])).toEqual({ retried: 3 });

      const orphans = await Promise.all([app.sendTask('cli.nobody', []), app.sendTask('cli.nobody', [])]);
      const worker = await start(['worker', '--app', APP, '--broker', url], /running/);
      await waitFor(async () => (await app.admin.deadLetters()).filter((d) => d.name === 'cli.nobody').length === 2, 10_000);
      worker.child.kill('SIGTERM');
      await worker.exited;
      // stopped gracefully (the exit code after SIGTERM is cli.test.ts's subject; here the worker only has to be gone)
      expect(worker.stderr()).toMatch(/errand worker stopped/);
      expect(await json(['dead-letters', 'retry', orphans[0]!.id])).toEqual({ requeued: 1 });
      expect((await orphans[0]!.info())!.state).toBe('PENDING');
      expect(await json(['dead-letters', 'drop', '--all'])).toEqual({ dropped: 1 });

      const log = await app.admin.actions(20);
      expect(log.filter((a) => a.actor === 'cli').map((a) => a.action)).toEqual(
        expect.arrayContaining(['pause', 'purge', 'resume', 'retry', 'retry-dead-letters', 'drop-dead-letters']),
      );
    }, 60_000);

    it('dashboard serves the live dashboard on loopback until SIGTERM, and refuses another address without credentials', async () => {
      const dashboard = await start(['dashboard', '--port', '0', '--broker', url], /errand dashboard at http/);
      const address = /errand dashboard at (\S+)/.exec(dashboard.stderr())![1]!;
      const page = await fetch(address);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      const overview = await fetch(`${address}api/overview`);
      expect(overview.status).toBe(200);
      expect(await overview.json()).toMatchObject({ queues: expect.any(Array) });
      dashboard.child.kill('SIGTERM');
      expect(await dashboard.exited).toBe(0);

      const open = await errand(['dashboard', '--host', '0.0.0.0', '--port', '0', '--broker', url]);
      expect(open.code).toBe(1);
      expect(open.stderr).toMatch(/^errand: serveDashboard: host 0\.0\.0\.0 is reachable from other machines; give auth/);
      expect(open.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }, 60_000);

    it('bad input: one line naming the cause, exit 1', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['tasks', '--state', 'DONE'], /^errand: --state DONE: not a state \(one of PENDING, STARTED/],
        [['tasks', '--limit', '5000'], /^errand: limit: must be an integer from 1 to 1000, got 5000\n$/],
        [['tasks', '--cursor', 'nonsense'], /^errand: cursor: not a task list cursor/],
        [['pause'], /^errand: --queue is required: the queue to act on\n$/],
        [['retry'], /^errand: give a task id, or --state/],
        [['retry', randomUUID()], /^errand: no task with id \S+ \(unknown, or its result expired\)\n$/],
        [['dead-letters', 'drop'], /^errand: give the task ids of the dead letters to drop, or --all\n$/],
      ];
      for (const [args, stderr] of cases) {
        const run = await errand([...args, '--broker', url]);
        expect({ args, code: run.code }).toEqual({ args, code: 1 });
        expect(run.stderr).toMatch(stderr);
        expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      }
    }, 60_000);
  },
  ['sqlite', 'redis'],
);
