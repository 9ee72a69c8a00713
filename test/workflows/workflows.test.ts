import { afterEach, expect, it } from 'vitest';
import { createApp, TaskFailedError, TaskRevokedError, type Errand, type WorkflowInfo } from '../../src/index.js';
import { describeEachBroker } from '../support/brokers.js';
import { waitFor } from '../support/wait.js';

class Nope extends Error {
  override name = 'Nope';
}

/** Chains, groups and chords through createApp and real workers, on every broker. */
describeEachBroker('workflows', (target) => {
  const opened: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of opened.splice(0).reverse()) await close();
  });

  /** An app with the workflow tasks; `runs` counts handler calls per task name (all apps of a test share it). */
  function makeApp(url: string, runs: Map<string, number>, gates: Map<string, Promise<void>>): Errand {
    const app = createApp({ broker: url, logger: false });
    const count = (name: string): void => void runs.set(name, (runs.get(name) ?? 0) + 1);
    app.task('wf.add', (_ctx, a: number, b: number) => (count('wf.add'), a + b));
    app.task('wf.double', (_ctx, n: number) => (count('wf.double'), n * 2));
    app.task('wf.label', (_ctx, n: number, prefix: string) => (count('wf.label'), `${prefix}${n}`));
    app.task('wf.fail', () => {
      count('wf.fail');
      throw new Nope('no');
    });
    app.task('wf.sum', (_ctx, results: number[], extra: number) => (count('wf.sum'), results.reduce((a, b) => a + b, 0) + extra));
    app.task('wf.gated', async (_ctx, key: string, n: number) => {
      count('wf.gated');
      await gates.get(key);
      return n;
    });
    app.task('wf.hold', async (_ctx, _previous: unknown, key: string) => {
      count('wf.hold');
      await gates.get(key);
      return key;
    });
    let flaky = 0;
    app.task(
      'wf.flaky',
      (_ctx, n: number) => {
        count('wf.flaky');
        if (flaky++ === 0) throw new Nope('first time');
        return n + 1;
      },
      { retry: { max: 2, backoff: { base: 1, cap: 1 } } },
    );
    return app;
  }

  async function setup(workers = 1) {
    const url = target.makeUrl('wf');
    const runs = new Map<string, number>();
    const gates = new Map<string, Promise<void>>();
    const app = makeApp(url, runs, gates);
    opened.push(async () => {
      await app.close();
      await target.cleanup?.(url);
    });
    const apps = [app];
    for (let i = 1; i < workers; i++) {
      // another process would have its own app; on the memory broker the instance is shared
      const other = target.crossProcess ? makeApp(url, runs, gates) : app;
      if (other !== app) opened.push(() => other.close());
      apps.push(other);
    }
    for (const a of new Set(apps)) {
      const w = a.worker({ handleSignals: false, claimWaitMs: 50, concurrency: 8, report: false });
      await w.start();
      opened.push(() => w.stop({ graceMs: 0 }));
    }
    const gate = (key: string): (() => void) => {
      let open!: () => void;
      gates.set(key, new Promise<void>((resolve) => (open = resolve)));
      return open;
    };
    const t = (name: string) => ({
      s: (...args: unknown[]) => ({ task: name, args, options: {} }),
      signature: (args: unknown[], options: { countdown?: number }) => ({ task: name, args, options }),
    });
    return { app, runs, gate, t };
  }

  it('a chain hands each result to the next step, and its status counts the steps done', async () => {
    const { app, t } = await setup();
    const flow = await app.chain<string>(t('wf.add').s(1, 2), t('wf.double').s(), t('wf.label').s('n='));
    const seen: WorkflowInfo[] = [];
    for await (const info of flow.watch()) seen.push(info);
    expect(seen.at(-1)).toMatchObject({ kind: 'chain', state: 'SUCCESS', total: 3, done: 3, result: 'n=6' });
    expect(await flow.get({ timeout: 10_000 })).toBe('n=6');
    const done = seen.map((i) => i.done);
    expect(done).toEqual([...done].sort());
    const info = (await app.workflow(flow.id).info())!;
    expect(info.steps.map((s) => [s.name, s.state])).toEqual([
      ['wf.add', 'SUCCESS'],
      ['wf.double', 'SUCCESS'],
      ['wf.label', 'SUCCESS'],
    ]);
  });

  it('a failing step stops the chain: later steps are never created and the handle fails with that step’s error', async () => {
    const { app, runs, t } = await setup();
    const flow = await app.chain(t('wf.add').s(1, 1), t('wf.fail').s(), t('wf.double').s());
    const failure = await flow.get({ timeout: 10_000 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TaskFailedError);
    expect((failure as TaskFailedError).error).toMatchObject({ type: 'Nope', message: 'no' });
    const info = (await flow.info())!;
    expect(info).toMatchObject({ state: 'FAILURE', done: 1, total: 3 });
    expect(info.steps[2]!.state).toBeUndefined();
    expect((failure as TaskFailedError).taskId).toBe(info.steps[1]!.taskId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(runs.get('wf.double')).toBeUndefined();
  });

  it('a retried step does not re-run the finished steps before it', async () => {
    const { app, runs, t } = await setup();
    const flow = await app.chain(t('wf.add').s(2, 3), t('wf.flaky').s(), t('wf.double').s());
    expect(await flow.get({ timeout: 10_000 })).toBe(12);
    expect(Object.fromEntries(runs)).toEqual({ 'wf.add': 1, 'wf.flaky': 2, 'wf.double': 1 });
  });

  it('a group runs its members in parallel and gives their results in order', async () => {
    const { app, gate, t } = await setup();
    const open = gate('g');
    const flow = await app.group([t('wf.gated').s('g', 1), t('wf.add').s(2, 3), t('wf.double').s(4)]);
    await waitFor(async () => (await flow.info())!.done === 2);
    expect((await flow.info())!.state).toBe('STARTED');
    open();
    expect(await flow.get({ timeout: 10_000 })).toEqual([1, 5, 8]);
  });

  it('a chord’s callback runs exactly once, with the results, when members finish at the same instant on different workers', async () => {
    const { app, runs, gate, t } = await setup(2);
    for (let round = 0; round < 3; round++) {
      const key = `c${round}`;
      const open = gate(key);
      const members = Array.from({ length: 6 }, (_, i) => t('wf.gated').s(key, i + 1));
      const flow = await app.chord<number>(members, t('wf.sum').s(100));
      await waitFor(async () => (await flow.info())!.steps.filter((s) => s.state === 'STARTED').length === 6, 10_000);
      open();
      expect(await flow.get({ timeout: 10_000 })).toBe(121);
      expect((await flow.info())!).toMatchObject({ state: 'SUCCESS', done: 7, total: 7 });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(runs.get('wf.sum')).toBe(3);
  });

  it('a chord whose member fails never runs its callback', async () => {
    const { app, runs, t } = await setup();
    const flow = await app.chord([t('wf.add').s(1, 1), t('wf.fail').s()], t('wf.sum').s(0));
    await expect(flow.get({ timeout: 10_000 })).rejects.toBeInstanceOf(TaskFailedError);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(runs.get('wf.sum')).toBeUndefined();
  });

  it('revoking a workflow revokes its pending members, creates no later step, and keeps finished results', async () => {
    const { app, runs, gate, t } = await setup();
    gate('r');
    const flow = await app.chain(t('wf.add').s(1, 1), t('wf.hold').s('r'), t('wf.double').s());
    await waitFor(async () => (await flow.info())!.steps[1]!.state === 'STARTED');
    expect(await flow.revoke()).toBe(1);
    await expect(flow.get({ timeout: 10_000 })).rejects.toBeInstanceOf(TaskRevokedError);
    const info = (await flow.info())!;
    expect(info.state).toBe('REVOKED');
    expect(info.steps.map((s) => s.state)).toEqual(['SUCCESS', 'REVOKED', undefined]);
    expect(runs.get('wf.double')).toBeUndefined();

    const later = await app.group([
      t('wf.add').signature([1, 1], { countdown: 60_000 }),
      t('wf.add').signature([2, 2], { countdown: 60_000 }),
    ]);
    expect(await later.revoke()).toBe(2);
    expect((await later.info())!.steps.map((s) => s.state)).toEqual(['REVOKED', 'REVOKED']);
  });

  it('the workflow’s members are in its tag feed, so the status push can follow it', async () => {
    const { app, t } = await setup();
    const flow = await app.chain(t('wf.add').s(1, 2), t('wf.double').s());
    await flow.get({ timeout: 10_000 });
    const page = await app.tagFeed(`workflow:${flow.id}`);
    expect(page.entries.map((e) => e.info.name).sort()).toEqual(['wf.add', 'wf.double']);
    expect(page.entries.every((e) => e.info.state === 'SUCCESS')).toBe(true);
  });
});

it('refuses an empty workflow or something that is not a signature', async () => {
  const app = createApp({ broker: 'memory://', logger: false });
  try {
    const add = app.task('x.add', (_ctx, a: number, b: number) => a + b);
    await expect(app.chain()).rejects.toThrow(/at least one signature/);
    await expect(app.group([{ nope: 1 } as never])).rejects.toThrow(/group\[0\] is not a signature/);
    await expect(app.chord([add.s(1, 2)], 'x' as never)).rejects.toThrow(/chord callback is not a signature/);
    expect(add.s(1, 2)).toEqual({ task: 'x.add', args: [1, 2], options: {} });
  } finally {
    await app.close();
  }
});
