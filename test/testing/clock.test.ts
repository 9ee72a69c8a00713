import { describe, expect, it } from 'vitest';
import { sleep, systemClock } from '../../src/core/clock.js';
import { ManualClock } from '../../src/testing/index.js';

describe('ManualClock', () => {
  it('starts where told and moves only when told', () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    const start = clock.now();
    expect(start).toBe(Date.UTC(2030, 0, 1));
    clock.advance(1500);
    expect(clock.now()).toBe(start + 1500);
    clock.set(new Date('2031-01-01T00:00:00Z'));
    expect(clock.now()).toBe(Date.UTC(2031, 0, 1));
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.set(Number.NaN)).toThrow(RangeError);
  });

  it('fires timers in due order, each seeing its own due time; ties in the order they were set', () => {
    const clock = new ManualClock(0);
    const fired: Array<[string, number]> = [];
    clock.setTimer(() => fired.push(['b', clock.now()]), 200);
    clock.setTimer(() => fired.push(['a', clock.now()]), 100);
    clock.setTimer(() => fired.push(['a2', clock.now()]), 100);
    const cancelled = clock.setTimer(() => fired.push(['never', clock.now()]), 150);
    clock.clearTimer(cancelled);
    clock.clearTimer(undefined);
    clock.advance(150);
    expect(fired).toEqual([
      ['a', 100],
      ['a2', 100],
    ]);
    expect(clock.now()).toBe(150);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(200);
    clock.advance(1000);
    expect(fired.at(-1)).toEqual(['b', 200]);
  });

  it('drives a re-arming schedule (a beat scheduler) through one advance, firing every period on time', () => {
    const clock = new ManualClock(0);
    const beats: number[] = [];
    const every = (period: number): void => {
      // a beat entry: fire, then arm the next fire from the time it was due
      const next = (Math.floor(clock.now() / period) + 1) * period;
      clock.setTimer(() => {
        beats.push(clock.now());
        every(period);
      }, next - clock.now());
    };
    every(60_000);
    clock.advance(5 * 60_000 + 30_000);
    expect(beats).toEqual([60_000, 120_000, 180_000, 240_000, 300_000]);
    expect(clock.nextTimerAt()).toBe(360_000);
  });

  it('setting it back fires nothing; timers keep their due times', () => {
    const clock = new ManualClock(10_000);
    let fired = 0;
    clock.setTimer(() => fired++, 1000);
    clock.set(0);
    expect(fired).toBe(0);
    clock.advance(10_999);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
  });

  it('sleep() on a clock resolves when the clock reaches it, or at once on abort', async () => {
    const clock = new ManualClock(0);
    let done = false;
    const slept = sleep(5000, undefined, clock).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(5000);
    await slept;
    expect(done).toBe(true);
    const controller = new AbortController();
    const aborted = sleep(1_000_000, controller.signal, clock);
    controller.abort();
    await aborted;
    expect(clock.pendingTimers).toBe(0);
    // the system clock is the default and real
    const t0 = Date.now();
    await sleep(20);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(50);
  });
});
