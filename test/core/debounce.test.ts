import { expect, it } from 'vitest';
import { ConfigError, type Errand, type NewTask } from '../../src/index.js';
import { closeAfterEach, openTargetApp, recordingApp } from '../support/apps.js';
import { describeEachBroker } from '../support/brokers.js';
import { delay, waitFor } from '../support/wait.js';

const opened = closeAfterEach();

it('turns debounce into NewTask.debounce (debounce:name[:key]), due delay after the call, capped at maxDelay', async () => {
  const { app, sent } = recordingApp(opened);
  await app.task('save', (_ctx, doc: string) => doc, { debounce: { delay: 500, maxDelay: 2_000 } }).delay('d1');
  await app
    .task('keyed', (_ctx, doc: string) => doc, { debounce: { delay: 100, keep: 'first', key: (doc: string) => doc } })
    .delay('d2');
  const [save, keyed] = sent as [NewTask, NewTask];
  expect(save.debounce).toEqual({ key: 'debounce:save', replace: true, maxRunAt: save.enqueuedAt + 2_000 });
  expect(save.runAt).toBe(save.enqueuedAt + 500);
  expect(keyed.debounce).toEqual({ key: 'debounce:keyed:d2', replace: false });
  expect(keyed.runAt).toBe(keyed.enqueuedAt + 100);
  expect(keyed).not.toHaveProperty('group');
});

it('turns throttle into a rate limit of 1 per window and a fold at once, both throttle:name[:key]', async () => {
  const { app, sent } = recordingApp(opened);
  await app.task('ping', (_ctx, user: string) => user, { throttle: { per: 1_000, key: (user: string) => user } }).delay('u1');
  const [ping] = sent as [NewTask];
  expect(ping.rateLimits).toEqual([{ key: 'throttle:ping:u1', limit: 1, perMs: 1_000 }]);
  expect(ping.debounce).toEqual({ key: 'throttle:ping:u1', replace: true, maxRunAt: ping.enqueuedAt });
  expect(ping.runAt).toBe(ping.enqueuedAt);
  expect(ping.group).toBe('throttle:ping:u1');
});

it('refuses bad options at definition, and what cannot apply at enqueue, naming the task and field', async () => {
  const { app, sent } = recordingApp(opened);
  expect(() => app.task('a', () => 1, { debounce: { delay: -1 } })).toThrow(/task a: debounce.delay/);
  expect(() => app.task('b', () => 1, { debounce: { delay: 100, maxDelay: 50 } })).toThrow(/task b: debounce.maxDelay/);
  expect(() => app.task('c', () => 1, { debounce: { delay: 1, keep: 'middle' as never } })).toThrow(/task c: debounce.keep/);
  expect(() => app.task('d', () => 1, { debounce: { delay: 1, key: 'k' as never } })).toThrow(/task d: debounce.key/);
  expect(() => app.task('e', () => 1, { throttle: { per: 0 } })).toThrow(/task e: throttle.per/);
  expect(() => app.task('f', () => 1, { throttle: { per: 10 }, debounce: { delay: 1 } })).toThrow(
    /task f: give debounce or throttle/,
  );
  expect(() => app.task('g', () => 1, { debounce: null as never })).toThrow(ConfigError);
  const four = Array.from({ length: 4 }, (_, i) => ({ limit: 1, per: 10 + i }));
  expect(() => app.task('h', () => 1, { rateLimit: four, throttle: { per: 10 } })).toThrow(/task h: throttle/);
  const save = app.task('save', () => 1, { debounce: { delay: 10 } });
  await expect(save.applyAsync([], { idempotencyKey: 'k' })).rejects.toThrow(/task save: idempotencyKey does not apply/);
  await expect(save.applyAsync([], { countdown: 10 })).rejects.toThrow(/task save: countdown does not apply/);
  const long = app.task('long', () => 1, { debounce: { delay: 1, key: () => 'x'.repeat(190) } });
  await expect(long.delay()).rejects.toThrow(/task long: the debounce key/);
  expect(sent).toHaveLength(0);
});

it('a broker without debounce refuses it at enqueue', async () => {
  const { app, sent } = recordingApp(opened, false);
  await expect(app.task('save', () => 1, { debounce: { delay: 10 } }).delay()).rejects.toThrow(
    /task save: debounce needs a broker with debounce/,
  );
  expect(sent).toHaveLength(0);
});

describeEachBroker('debounce and throttle through a worker', (target) => {
  const open = (): Errand => openTargetApp(target, 'debounce', opened);
  const startWorker = async (app: Errand): Promise<void> => {
    const worker = app.worker({ handleSignals: false, claimWaitMs: 200, concurrency: 4 });
    await worker.start();
    opened.push(() => worker.stop());
  };

  it('a burst of calls is one run with the last arguments; every call returned its id', async () => {
    const app = open();
    const runs: number[] = [];
    // calls a few ms apart; the delay is long enough that a loaded machine does not split the burst
    const save = app.task('doc.save', (_ctx, n: number) => void runs.push(n), { debounce: { delay: 500 } });
    await startWorker(app);
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) ids.push((await save.delay(n)).id);
    expect(new Set(ids).size).toBe(1);
    await app.result(ids[0]!).get({ timeout: 10_000 });
    expect(runs).toEqual([5]);
    // the burst is over: the next call starts another
    const next = await save.delay(6);
    expect(next.id).not.toBe(ids[0]);
    await next.get({ timeout: 10_000 });
    expect(runs).toEqual([5, 6]);
  });

  it("keep: 'first' runs with the burst's first arguments; keys are folded apart", async () => {
    const app = open();
    const runs: string[] = [];
    const save = app.task('doc.keep', (_ctx, doc: string, n: number) => void runs.push(`${doc}${n}`), {
      debounce: { delay: 300, keep: 'first', key: (doc: string) => doc },
    });
    await startWorker(app);
    const a = await save.delay('a', 1);
    const b = await save.delay('b', 1);
    await save.delay('a', 2);
    await save.delay('b', 2);
    expect(a.id).not.toBe(b.id);
    await a.get({ timeout: 10_000 });
    await b.get({ timeout: 10_000 });
    expect(runs.sort()).toEqual(['a1', 'b1']);
  });

  it('maxDelay: a steady stream of calls still runs, every maxDelay or so', async () => {
    const app = open();
    const runs: number[] = [];
    const save = app.task('doc.stream', (_ctx, n: number) => void runs.push(n), { debounce: { delay: 200, maxDelay: 300 } });
    await startWorker(app);
    const ids = new Set<string>();
    const end = Date.now() + 1_000;
    for (let n = 0; Date.now() < end; n++) {
      ids.add((await save.delay(n)).id);
      await delay(30);
    }
    // without the cap the stream would have been one task, run once after it
    expect(ids.size).toBeGreaterThanOrEqual(2);
    await waitFor(() => runs.length === ids.size, 10_000);
    expect([...runs].sort((x, y) => x - y)).toEqual(runs);
  });

  it('throttle: the first call runs at once, the calls within the window run once at its end with the last arguments', async () => {
    const app = open();
    const runs: number[] = [];
    const ping = app.task('user.ping', (_ctx, n: number) => void runs.push(n), { throttle: { per: 600 } });
    await startWorker(app);
    const first = await ping.delay(1);
    await first.get({ timeout: 10_000 });
    const rest = [];
    for (let n = 2; n <= 5; n++) rest.push(await ping.delay(n));
    expect(new Set(rest.map((r) => r.id)).size).toBe(1);
    expect(rest[0]!.id).not.toBe(first.id);
    await rest[0]!.get({ timeout: 10_000 });
    expect(runs).toEqual([1, 5]);
    // the broker's claim times: one window apart at least
    const started = await Promise.all([first.id, rest[0]!.id].map(async (id) => (await app.backend.getInfo(id))!.startedAt!));
    expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(600);
  });
});

it('a debounced or throttled task cannot be a workflow member (it may fold into another id)', async () => {
  const { app, sent } = recordingApp(opened);
  const save = app.task('save', () => 1, { debounce: { delay: 10 } });
  const ping = app.task('ping', () => 1, { throttle: { per: 10 } });
  const plain = app.task('plain', () => 1);
  await expect(app.chain(plain.s(), save.s())).rejects.toThrow(/chain\[1\]: task save has debounce/);
  await expect(app.group([ping.s()])).rejects.toThrow(/group\[0\]: task ping has throttle/);
  expect(sent).toHaveLength(0);
});
