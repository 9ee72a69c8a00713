import { afterEach, describe, expect, it } from 'vitest';
import { cronPlanner } from '../../src/beat/cron-planner.js';
import { ManualClock } from '../../src/core/clock.js';
import {
  BrokerError,
  Errand,
  MemoryBackend,
  type Clock,
  type ClockTimer,
  type EnqueueOutcome,
  type NewTask,
} from '../../src/index.js';
import { createTestApp } from '../../src/testing/index.js';
import { recordingLogger } from './beat-log.js';

/** Lets enqueues started by timer callbacks finish. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

const apps: Errand[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const T0 = Date.parse('2026-06-01T10:00:00Z');

function makeApp(
  clock: Clock,
  backend?: MemoryBackend,
): { app: Errand; log: ReturnType<typeof recordingLogger>; backend: MemoryBackend } {
  const log = recordingLogger();
  const b = backend ?? new MemoryBackend({ resultTtlMs: 24 * 3600_000, deadLetterLimit: 10, clock });
  const app = new Errand(b, { clock, logger: log, cronPlanner, ownsBackend: backend === undefined });
  app.task('beat.tick', () => 'ok');
  apps.push(app);
  return { app, log, backend: b };
}

describe('beat loop on a manual clock', () => {
  it('enqueues each tick once, at its exact time, with key beat:<name>:<T>; no drift over many ticks', async () => {
    const clock = new ManualClock(T0 + 1);
    const { app, log, backend } = makeApp(clock);
    app.schedule('every-second', { every: 1000, catchUp: 'none' }, 'beat.tick');
    const beat = app.beat();
    const enqueued: NewTask[] = [];
    const original = backend.enqueue.bind(backend);
    backend.enqueue = (task) => (enqueued.push(task), original(task));
    // uneven steps: timers fire at their due time whatever the step
    for (let i = 0; i < 1000; i++) clock.advance(7 + (i % 13));
    await settle();
    const ticks = log.fired.map((f) => f.tick);
    expect(ticks.length).toBe(Math.floor((clock.now() - T0) / 1000));
    ticks.forEach((t, i) => expect(t).toBe(T0 + (i + 1) * 1000));
    expect(enqueued.map((t) => t.idempotencyKey)).toEqual(ticks.map((t) => `beat:every-second:${t}`));
    expect(enqueued.every((t, i) => t.enqueuedAt === ticks[i])).toBe(true);
    expect(log.fired.every((f) => f.lateMs === 0 && f.created)).toBe(true);
    await beat.stop();
    clock.advance(5000);
    await settle();
    expect(log.fired.length).toBe(ticks.length);
  });

  it('cron with seconds in a time zone; a daily schedule fires once a day across long waits', async () => {
    const clock = new ManualClock(Date.parse('2026-07-01T00:00:00Z'));
    const { app, log } = makeApp(clock);
    app.schedule('ten-s', { cron: '*/10 * * * * *', catchUp: 'none' }, 'beat.tick');
    app.schedule('morning', { cron: '0 9 * * *', tz: 'Europe/Berlin', catchUp: 'none' }, 'beat.tick');
    const beat = app.beat();
    clock.advance(30_000);
    await settle();
    expect(log.fired.filter((f) => f.schedule === 'ten-s').map((f) => new Date(f.tick).toISOString())).toEqual([
      '2026-07-01T00:00:10.000Z',
      '2026-07-01T00:00:20.000Z',
      '2026-07-01T00:00:30.000Z',
    ]);
    await beat.stop();
    const daily = makeApp(clock);
    daily.app.schedule('morning', { cron: '0 9 * * *', tz: 'Europe/Berlin', catchUp: 'none' }, 'beat.tick');
    daily.app.beat();
    for (let h = 0; h < 72; h++) clock.advance(3600_000);
    await settle();
    expect(log.fired.filter((f) => f.schedule === 'morning')).toEqual([]); // stopped before 09:00
    expect(daily.log.fired.map((f) => new Date(f.tick).toISOString())).toEqual([
      '2026-07-01T07:00:00.000Z',
      '2026-07-02T07:00:00.000Z',
      '2026-07-03T07:00:00.000Z',
    ]);
  });

  it("catchUp 'latest' runs the most recent missed tick at start, deduped by its key if it already ran", async () => {
    const clock = new ManualClock(T0 + 300);
    const { app, log, backend } = makeApp(clock);
    app.schedule('s', { every: 1000 }, 'beat.tick');
    const first = app.beat();
    clock.advance(0);
    await settle();
    expect(log.fired).toMatchObject([{ tick: T0, created: true }]);
    await first.stop();
    // a restart (another app on the same broker) within the same period: same tick, same task
    clock.advance(400);
    const restarted = makeApp(clock, backend);
    restarted.app.schedule('s', { every: 1000 }, 'beat.tick');
    restarted.app.beat();
    clock.advance(0);
    await settle();
    expect(restarted.log.fired).toMatchObject([{ tick: T0, created: false, taskId: log.fired[0]!.taskId }]);
    await restarted.app.close();
    // downtime of several periods costs one catch-up run, not one per missed tick
    clock.set(T0 + 5_500);
    const later = makeApp(clock, backend);
    later.app.schedule('s', { every: 1000 }, 'beat.tick');
    later.app.beat();
    clock.advance(0);
    await settle();
    expect(later.log.fired.map((f) => f.tick)).toEqual([T0 + 5000]);
  });

  it("catchUp 'none' starts from the next tick", async () => {
    const clock = new ManualClock(T0 + 300);
    const { app, log } = makeApp(clock);
    app.schedule('s', { every: 1000, catchUp: 'none' }, 'beat.tick');
    app.beat();
    clock.advance(699);
    await settle();
    expect(log.fired).toEqual([]);
    clock.advance(1);
    await settle();
    expect(log.fired.map((f) => f.tick)).toEqual([T0 + 1000]);
  });

  it('a broker failure is logged and the next tick is enqueued as usual', async () => {
    const clock = new ManualClock(T0 + 1);
    const { app, log, backend } = makeApp(clock);
    const original = backend.enqueue.bind(backend);
    let failures = 1;
    backend.enqueue = (task): Promise<EnqueueOutcome> =>
      failures-- > 0 ? Promise.reject(new BrokerError('broker down')) : original(task);
    app.schedule('s', { every: 1000, catchUp: 'none' }, 'beat.tick');
    app.beat();
    clock.advance(2000);
    await settle();
    expect(log.errors).toEqual(['beat could not enqueue a tick: BrokerError: broker down']);
    expect(log.fired.map((f) => f.tick)).toEqual([T0 + 2000]);
  });

  it('app.close() stops its beat loops', async () => {
    const clock = new ManualClock(T0 + 1);
    const { app, log } = makeApp(clock);
    app.schedule('s', { every: 1000, catchUp: 'none' }, 'beat.tick');
    app.beat();
    await app.close();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(5000);
    await settle();
    expect(log.fired).toEqual([]);
  });
});

/** A clock whose timers fire only when the test says, late if it likes. */
class LateClock implements Clock {
  time = T0;
  timers: Array<{ at: number; fn: () => void }> = [];
  now = (): number => this.time;
  setTimer(fn: () => void, ms: number): ClockTimer {
    const timer = { at: this.time + ms, fn };
    this.timers.push(timer);
    return timer as unknown as ClockTimer;
  }
  clearTimer(timer: ClockTimer | undefined): void {
    this.timers = this.timers.filter((t) => t !== (timer as unknown));
  }
  /** Jumps to `time` and fires the timers due by then once, in order (like a blocked event loop catching up). */
  fireLate(time: number): void {
    this.time = time;
    const due = this.timers.filter((t) => t.at <= time);
    this.timers = this.timers.filter((t) => t.at > time);
    for (const t of due) t.fn();
  }
}

describe('a late timer', () => {
  it('fires its tick late, never skipped or doubled; the following tick fires on time', async () => {
    const clock = new LateClock();
    const { app, log } = makeApp(clock);
    app.schedule('s', { every: 1000, catchUp: 'none' }, 'beat.tick');
    app.beat();
    clock.fireLate(T0 + 1000 + 900); // 900 ms late
    await settle();
    clock.fireLate(T0 + 2000);
    await settle();
    expect(log.fired.map((f) => [f.tick - T0, f.lateMs])).toEqual([
      [1000, 900],
      [2000, 0],
    ]);
  });

  it('one tick overdue after it: fired at once, in order', async () => {
    const clock = new LateClock();
    const { app, log } = makeApp(clock);
    app.schedule('s', { every: 1000, catchUp: 'none' }, 'beat.tick');
    app.beat();
    clock.fireLate(T0 + 2500);
    clock.fireLate(T0 + 2500);
    await settle();
    expect(log.fired.map((f) => f.tick - T0)).toEqual([1000, 2000]);
  });

  it("a stall of many periods is treated as downtime: 'latest' fires the tick armed for and the most recent one", async () => {
    const clock = new LateClock();
    const { app, log } = makeApp(clock);
    app.schedule('latest', { every: 1000, catchUp: 'latest' }, 'beat.tick');
    app.schedule('none', { every: 1000, catchUp: 'none' }, 'beat.tick');
    app.beat();
    clock.fireLate(T0); // the start's catch-up tick of 'latest'
    clock.fireLate(T0 + 10_500);
    clock.fireLate(T0 + 10_500);
    clock.fireLate(T0 + 11_000);
    await settle();
    const ticks = (name: string): number[] => log.fired.filter((f) => f.schedule === name).map((f) => f.tick - T0);
    expect(ticks('latest')).toEqual([0, 1000, 10_000, 11_000]);
    expect(ticks('none')).toEqual([1000, 11_000]);
    expect(log.warnings.filter((w) => w.startsWith('beat fell behind'))).toHaveLength(2);
  });
});

describe('errand/testing', () => {
  it('a test app runs a schedule on its manual clock, cron included', async () => {
    const t = createTestApp({ now: Date.parse('2026-06-01T08:59:59Z') });
    const runs: string[] = [];
    const report = t.app.task('reports.daily', (_ctx, team: string) => void runs.push(team));
    t.app.schedule('daily', { cron: '0 9 * * *', catchUp: 'none' }, report, ['ops']);
    const beat = t.app.beat();
    await t.advance(1000);
    await settle();
    expect(runs).toEqual(['ops']);
    expect(t.enqueued('reports.daily')[0]?.idempotencyKey).toBe(`beat:daily:${Date.parse('2026-06-01T09:00:00Z')}`);
    await beat.stop();
    await t.close();
  });
});
