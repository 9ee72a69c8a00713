import { expect, it } from 'vitest';
import { ConfigError, type Errand } from '../../src/index.js';
import { closeAfterEach, openTargetApp, recordingApp } from '../support/apps.js';
import { describeEachBroker } from '../support/brokers.js';
import { waitFor } from '../support/wait.js';

const opened = closeAfterEach();

it('turns rateLimit into NewTask.rateLimits: rate:name, rate:name:key; a keyed one gives the group', async () => {
  const { app, sent } = recordingApp(opened);
  await app.task('total', () => 1, { rateLimit: { limit: 100, per: 60_000 } }).delay();
  await app
    .task('per', (_ctx, user: string) => user, {
      rateLimit: [
        { limit: 5, per: 1000, key: (user: string) => user },
        { limit: 100, per: 60_000 },
      ],
    })
    .delay('u1');
  await app
    .task('both', (_ctx, user: string) => user, {
      concurrency: { limit: 1, key: (user: string) => `c-${user}` },
      rateLimit: { limit: 5, per: 1000, key: (user: string) => user },
    })
    .delay('u2');
  await app
    .task('fair', (_ctx, team: string) => team, {
      fairness: { key: (team: string) => `team-${team}` },
      rateLimit: { limit: 5, per: 1000, key: (team: string) => team },
    })
    .delay('t');
  await app
    .task('twice', () => 1, {
      rateLimit: [
        { limit: 5, per: 1000 },
        { limit: 3, per: 1000 },
        { limit: 50, per: 60_000 },
      ],
    })
    .delay();
  expect(sent[0]).toMatchObject({ rateLimits: [{ key: 'rate:total', limit: 100, perMs: 60_000 }] });
  expect(sent[0]).not.toHaveProperty('group');
  expect(sent[0]).not.toHaveProperty('limits');
  expect(sent[1]).toMatchObject({
    rateLimits: [
      { key: 'rate:per:u1', limit: 5, perMs: 1000 },
      { key: 'rate:per', limit: 100, perMs: 60_000 },
    ],
    group: 'rate:per:u1',
  });
  expect(sent[2]).toMatchObject({ group: 'both:c-u2', rateLimits: [{ key: 'rate:both:u2' }] });
  expect(sent[3]).toMatchObject({ group: 'team-t', rateLimits: [{ key: 'rate:fair:t' }] });
  // same key and window: the smaller limit; same key, another window: both kept
  expect(sent[4]!.rateLimits).toEqual([
    { key: 'rate:twice', limit: 3, perMs: 1000 },
    { key: 'rate:twice', limit: 50, perMs: 60_000 },
  ]);
});

it('refuses bad rate limits at definition, and bad keys at enqueue, naming the task and field', async () => {
  const { app, sent } = recordingApp(opened);
  expect(() => app.task('a', () => 1, { rateLimit: { limit: 0, per: 1000 } })).toThrow(/task a: rateLimit.limit/);
  expect(() => app.task('b', () => 1, { rateLimit: { limit: 1, per: 0.5 } })).toThrow(/task b: rateLimit.per/);
  expect(() => app.task('c', () => 1, { rateLimit: [] })).toThrow(/task c: rateLimit takes 1 to 4/);
  expect(() => app.task('d', () => 1, { rateLimit: { limit: 1, per: 10, key: 'x' as never } })).toThrow(/task d: rateLimit.key/);
  expect(() => app.task('e', () => 1, { rateLimit: [{ limit: 1, per: 10 }, null as never] })).toThrow(/task e: rateLimit\[1\]/);
  expect(() => app.task('f', () => 1, { rateLimit: { limit: 1 } as never })).toThrow(ConfigError);
  const throws = app.task('throws', () => 1, {
    rateLimit: {
      limit: 1,
      per: 10,
      key: () => {
        throw new Error('boom');
      },
    },
  });
  await expect(throws.delay()).rejects.toThrow(/task throws: rateLimit.key threw: boom/);
  const long = app.task('long', () => 1, { rateLimit: { limit: 1, per: 10, key: () => 'x'.repeat(195) } });
  await expect(long.delay()).rejects.toThrow(/task long: the rate limit key/);
  expect(sent).toHaveLength(0);
});

it('a broker without rate limits refuses rateLimit at enqueue, and ctx.rateLimited in the handler', async () => {
  const { app, sent } = recordingApp(opened, false);
  await expect(app.task('lim', () => 1, { rateLimit: { limit: 1, per: 10 } }).delay()).rejects.toThrow(
    /task lim: rateLimit needs a broker with rate limits/,
  );
  const caller = app.task('caller', (ctx) => ctx.rateLimited(100));
  const r = await caller.delay();
  expect(sent).toHaveLength(1);
  const worker = app.worker({ handleSignals: false, claimWaitMs: 100 });
  await worker.start();
  opened.push(() => worker.stop());
  await expect(r.get({ timeout: 5000 })).rejects.toThrow(/ctx.rateLimited needs a broker with rate limits/);
});

describeEachBroker(
  'rate limits through a worker',
  (target) => {
    const open = (): Errand => openTargetApp(target, 'rate', opened);

    it('rateLimit { limit: 5, per: 1000 }: 15 tasks start at most 5 in any second', async () => {
      const app = open();
      const starts: number[] = [];
      const job = app.task(
        'rate.job',
        () => {
          starts.push(performance.now());
        },
        { rateLimit: { limit: 5, per: 1000 } },
      );
      const results = await job.delayMany(Array.from({ length: 15 }, () => []));
      const worker = app.worker({ handleSignals: false, claimWaitMs: 200, concurrency: 10 });
      await worker.start();
      opened.push(() => worker.stop());
      await Promise.all(results.map((r) => r.get({ timeout: 10_000 })));
      await waitFor(() => starts.length === 15);
      const most = (times: number[], windowMs: number): number =>
        Math.max(...times.map((at) => times.filter((t) => t >= at && t < at + windowMs).length));
      // the broker's claim times (startedAt) are what the limit governs: at most 5 in any 1000 ms
      // (handler starts trail them by however long the machine takes, so they are not timed here)
      const claimedAt = (await Promise.all(results.map((r) => r.info()))).map((info) => info!.startedAt!);
      expect(most(claimedAt, 1000)).toBeLessThanOrEqual(5);
      // three windows: the 11th claim comes at least 2 s after the first
      claimedAt.sort((a, b) => a - b);
      expect(claimedAt[10]! - claimedAt[0]!).toBeGreaterThanOrEqual(2000);
      expect(claimedAt[14]! - claimedAt[0]!).toBeLessThan(5000);
    });

    it('ctx.rateLimited(200) on the first attempt: the task runs again after >= 200 ms, attempt still 1', async () => {
      const app = open();
      const runs: Array<{ at: number; attempt: number }> = [];
      const job = app.task(
        'rate.held',
        (ctx) => {
          runs.push({ at: Date.now(), attempt: ctx.attempt });
          if (runs.length === 1) ctx.rateLimited(200);
          return 'done';
        },
        { rateLimit: { limit: 100, per: 60_000 }, retry: { max: 0 } },
      );
      const r = await job.delay();
      const worker = app.worker({ handleSignals: false, claimWaitMs: 200 });
      await worker.start();
      opened.push(() => worker.stop());
      expect(await r.get({ timeout: 5000 })).toBe('done');
      expect(runs).toHaveLength(2);
      expect(runs.map((run) => run.attempt)).toEqual([1, 1]);
      expect(runs[1]!.at - runs[0]!.at).toBeGreaterThanOrEqual(195);
      expect(runs[1]!.at - runs[0]!.at).toBeLessThan(3000);
      const info = await r.info();
      expect(info).toMatchObject({ state: 'SUCCESS', attempts: 1, retries: 0 });
    });
  },
  ['memory', 'sqlite', 'postgres', 'redis'],
);
