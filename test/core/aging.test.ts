import { expect, it } from 'vitest';
import { ageStep, ConfigError, type Errand } from '../../src/index.js';
import { closeAfterEach, openTargetApp, recordingApp } from '../support/apps.js';
import { describeEachBroker } from '../support/brokers.js';

const opened = closeAfterEach();

const rule = { everyMs: 100, step: 2, max: 10 };

it('ageStep: the raises owed since the later of the due time and the last raise, capped, and the next look', () => {
  // due at 1000, first look at 1100: at 1350, 3 periods owed
  expect(ageStep({ ...rule, priority: 0, runAt: 1000, next: 1100 }, 1350)).toEqual({ priority: 6, next: 1400 });
  // sweeps at 1150 then 1350 give the same as one at 1350
  const first = ageStep({ ...rule, priority: 0, runAt: 1000, next: 1100 }, 1150);
  expect(first).toEqual({ priority: 2, next: 1200 });
  expect(ageStep({ ...rule, priority: first.priority, runAt: 1000, next: first.next! }, 1350)).toEqual({
    priority: 6,
    next: 1400,
  });
  // capped at max, and then never looked at again
  expect(ageStep({ ...rule, priority: 0, runAt: 0, next: 100 }, 10_000)).toEqual({ priority: 10, next: null });
  // due again later (a retry): counted from the new due time
  expect(ageStep({ ...rule, priority: 4, runAt: 5000, next: 1100 }, 5050)).toEqual({ priority: 4, next: 5100 });
  // not due yet: looked at a period after its due time
  expect(ageStep({ ...rule, priority: 0, runAt: 9000, next: 1100 }, 5000)).toEqual({ priority: 0, next: 9100 });
  // already above max: left where it is
  expect(ageStep({ ...rule, priority: 20, runAt: 0, next: 100 }, 1000)).toEqual({ priority: 20, next: null });
});

it('turns aging into NewTask.aging (defaults step 1, max 1000) and refuses bad options and flow options', async () => {
  const { app, sent } = recordingApp(opened);
  await app.task('report', () => 1, { priority: -5, aging: { every: 60_000 } }).delay();
  expect(sent[0]).toMatchObject({ priority: -5, aging: { everyMs: 60_000, step: 1, max: 1000 } });
  expect(() => app.task('a', () => 1, { aging: { every: 0 } })).toThrow(/task a: aging.every/);
  expect(() => app.task('b', () => 1, { aging: { every: 10, step: 0 } })).toThrow(/task b: aging.step/);
  expect(() => app.task('c', () => 1, { aging: { every: 10, max: 1001 } })).toThrow(/task c: aging.max/);
  expect(() => app.task('d', () => 1, { aging: null as never })).toThrow(ConfigError);
  expect(() => app.task('e', () => 1, { aging: { every: 10 }, concurrency: { limit: 1 } })).toThrow(
    /task e: aging does not combine with concurrency/,
  );
  expect(() => app.task('f', () => 1, { aging: { every: 10 }, throttle: { per: 10 } })).toThrow(/task f: aging does not combine/);
  // debounce is not flow control: they combine
  app.task('g', () => 1, { aging: { every: 10 }, debounce: { delay: 10 } });
});

it('a broker without aging refuses it at enqueue', async () => {
  const { app } = recordingApp(opened, false);
  await expect(app.task('report', () => 1, { aging: { every: 10 } }).delay()).rejects.toThrow(
    /task report: aging needs a broker with aging/,
  );
});

describeEachBroker('priority aging through a worker', (target) => {
  const open = (): Errand => openTargetApp(target, 'aging', opened);

  it('a low-priority task is not starved by a stream of higher-priority work', async () => {
    const app = open();
    const ran: string[] = [];
    let stop = false;
    const urgent = app.task(
      'work.urgent',
      async (_ctx, n: number) => {
        ran.push(`u${n}`);
        await new Promise((r) => setTimeout(r, 5));
      },
      { priority: 5 },
    );
    let waitingWhenRun = -1;
    const report = app.task(
      'work.report',
      async () => {
        waitingWhenRun = await app.backend.countWaiting('default');
      },
      { priority: -5, aging: { every: 50, step: 2 } },
    );
    // keep at least 20 urgent tasks waiting: without aging the report would never run while this goes on
    let n = 0;
    await urgent.delayMany(Array.from({ length: 20 }, () => [n++]));
    const result = await report.delay();
    const feeder = (async () => {
      while (!stop) {
        await urgent.delayMany(Array.from({ length: 10 }, () => [n++]));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const worker = app.worker({ handleSignals: false, concurrency: 1, claimWaitMs: 100, agingIntervalMs: 50 });
    await worker.start();
    opened.push(() => worker.stop({ graceMs: 0 }));
    try {
      await result.get({ timeout: 20_000 });
    } finally {
      stop = true;
      await feeder;
    }
    // urgent work was still queued when the report ran: it was raised past it, not left for an idle moment
    expect(waitingWhenRun).toBeGreaterThan(0);
    expect(ran.length).toBeGreaterThan(0);
  });
});
