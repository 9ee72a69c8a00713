import { expect, it } from 'vitest';
import { ConfigError, createApp } from '../../src/index.js';
import { closeAfterEach, recordingApp } from '../support/apps.js';
import { describeEachBroker } from '../support/brokers.js';
import { waitFor } from '../support/wait.js';

const opened = closeAfterEach();

it('turns concurrency and fairness into NewTask.limits and group: name, name:key, smallest limit per key', async () => {
  const { app, sent } = recordingApp(opened);
  await app.task('plain', () => 1).delay();
  await app.task('total', () => 1, { concurrency: { limit: 3 } }).delay();
  await app
    .task('per', (_ctx, user: string) => user, {
      concurrency: [{ key: (user: string) => user, limit: 1 }, { limit: 10 }, { key: (user: string) => user, limit: 2 }],
    })
    .delay('u1');
  await app
    .task('fair', (_ctx, team: string) => team, {
      fairness: { key: (team: string) => `team-${team}` },
      concurrency: { limit: 2 },
    })
    .delay('t');
  expect(sent[0]).not.toHaveProperty('limits');
  expect(sent[0]).not.toHaveProperty('group');
  expect(sent[1]).toMatchObject({ limits: [{ key: 'total', limit: 3 }] });
  expect(sent[1]).not.toHaveProperty('group');
  expect(sent[2]).toMatchObject({
    limits: [
      { key: 'per:u1', limit: 1 },
      { key: 'per', limit: 10 },
    ],
    group: 'per:u1',
  });
  expect(sent[3]).toMatchObject({ limits: [{ key: 'fair', limit: 2 }], group: 'team-t' });
});

it('refuses bad options at definition, and bad keys at enqueue, naming the task', async () => {
  const { app, sent } = recordingApp(opened);
  expect(() => app.task('a', () => 1, { concurrency: { limit: 0 } })).toThrow(/task a: concurrency.limit/);
  expect(() => app.task('b', () => 1, { concurrency: [] })).toThrow(/task b: concurrency takes 1 to 4/);
  expect(() => app.task('c', () => 1, { concurrency: { limit: 1, key: 'x' as never } })).toThrow(/task c: concurrency.key/);
  expect(() => app.task('d', () => 1, { fairness: {} as never })).toThrow(/task d: fairness/);
  const keyed = (name: string, key: (...args: unknown[]) => unknown) =>
    app.task(name, () => 1, { concurrency: { limit: 1, key: key as (...args: unknown[]) => string } });
  await expect(
    keyed('throws', () => {
      throw new Error('boom');
    }).delay(),
  ).rejects.toThrow(/task throws: concurrency.key threw: boom/);
  await expect(keyed('number', () => 7).delay()).rejects.toThrow(ConfigError);
  await expect(keyed('empty', () => '').delay()).rejects.toThrow(/task empty: concurrency.key must return a string/);
  await expect(keyed('long', () => 'x'.repeat(200)).delay()).rejects.toThrow(/task long: the concurrency key/);
  const fair = app.task('fairly', () => 1, { fairness: { key: () => 'y'.repeat(201) } });
  await expect(fair.delay()).rejects.toThrow(/task fairly: fairness.key/);
  expect(sent).toHaveLength(0);
});

it('a broker without flow control refuses limits and groups at enqueue, naming the option', async () => {
  const { app, sent } = recordingApp(opened, false);
  await expect(app.task('lim', () => 1, { concurrency: { limit: 1 } }).delay()).rejects.toThrow(
    /task lim: concurrency needs a broker with flow control/,
  );
  await expect(app.task('grp', () => 1, { fairness: { key: () => 'g' } }).delay()).rejects.toThrow(/task grp: fairness needs/);
  await app.task('ok', () => 1).delay();
  expect(sent).toHaveLength(1);
});

describeEachBroker(
  'concurrency limits through a worker',
  (target) => {
    it('tasks of one key (limit 1) never overlap, while another key’s run meanwhile', async () => {
      const url = target.makeUrl('flow');
      const app = createApp({ broker: url, logger: false });
      opened.push(async () => {
        await app.close();
        await target.cleanup?.(url);
      });
      const runs: Array<{ key: string; start: number; end: number }> = [];
      const job = app.task(
        'flow.job',
        async (_ctx, key: string) => {
          const start = performance.now();
          await new Promise((r) => setTimeout(r, 60));
          runs.push({ key, start, end: performance.now() });
        },
        { concurrency: { key: (key: string) => key, limit: 1 } },
      );
      const results = await job.delayMany([['a'], ['a'], ['a'], ['a'], ['b'], ['b']]);
      const worker = app.worker({ handleSignals: false, claimWaitMs: 200, concurrency: 4 });
      await worker.start();
      opened.push(() => worker.stop());
      await Promise.all(results.map((r) => r.get({ timeout: 10_000 })));
      await waitFor(() => runs.length === 6);
      for (const key of ['a', 'b']) {
        const mine = runs.filter((r) => r.key === key).sort((x, y) => x.start - y.start);
        for (let i = 1; i < mine.length; i++) expect(mine[i]!.start).toBeGreaterThanOrEqual(mine[i - 1]!.end - 1);
      }
      const a = runs.filter((r) => r.key === 'a');
      expect(runs.filter((r) => r.key === 'b').some((b) => a.some((x) => b.start < x.end && x.start < b.end))).toBe(true);
    });
  },
  ['memory', 'sqlite', 'postgres', 'redis'],
);
