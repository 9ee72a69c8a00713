/**
 * Time, from one place. The engine (enqueue times, countdown/ETA, retry
 * backoff, task time limits) and the memory broker (due times, leases,
 * result expiry) read it from a Clock; the default is the system clock.
 * errand/testing swaps in a ManualClock, so tests move time instead of
 * waiting for it.
 *
 * A Clock is "what time is it" plus "call me after this long": enough for
 * anything that sleeps until a due time (a beat scheduler arms one timer for
 * its next entry, and re-arms from the callback, which sees now() equal to
 * the time it was due).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `fn` once `ms` have passed on this clock. `unref`: the timer does
   * not keep the process alive (the system clock; a manual clock has no such notion).
   */
  setTimer(fn: () => void, ms: number, unref?: boolean): ClockTimer;
  /** Cancels a timer; a timer that already fired, or undefined, is ignored. */
  clearTimer(timer: ClockTimer | undefined): void;
}

/** An opaque timer handle of a Clock. */
export interface ClockTimer {
  readonly __brand: 'ClockTimer';
}

/** Wall-clock time and Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms, unref = false) {
    const timer = setTimeout(fn, Math.max(0, ms));
    if (unref) timer.unref();
    return timer as unknown as ClockTimer;
  },
  clearTimer(timer) {
    clearTimeout(timer as unknown as NodeJS.Timeout | undefined);
  },
};

/** Wall-clock milliseconds (the system clock); the Redis and SQLite brokers always use it. */
export const now = (): number => Date.now();

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clock.clearTimer(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimer(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` and `set(date)` fire
 * the timers that fall due on the way, earliest first (ties in the order
 * they were set), each with now() equal to its due time; timers set by those
 * callbacks fire in the same call if they fall due before its end. Timer
 * callbacks run synchronously; work they start (promises) runs afterwards,
 * so await whatever you expect to have happened.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  /** Starts at `start` (default: the real time now). */
  constructor(start: Date | number = Date.now()) {
    this.time = toMs(start, 'start');
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): ClockTimer {
    const timer: ManualTimer = { at: this.time + Math.max(0, Number.isFinite(ms) ? ms : 0), seq: this.seq++, fn };
    // kept sorted by (at, seq): the next to fire is first
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.timers[mid]!.at <= timer.at) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, timer);
    return timer as unknown as ClockTimer;
  }

  clearTimer(timer: ClockTimer | undefined): void {
    const i = this.timers.indexOf(timer as unknown as ManualTimer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Moves time forward by `ms`, firing what falls due. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance() needs a number of ms >= 0, got ${String(ms)}`);
    this.runUntil(this.time + ms);
  }

  /**
   * Moves to `date`. Forward, it fires what falls due on the way, as
   * advance() does; backward, nothing fires (timers keep their due times).
   */
  set(date: Date | number): void {
    const target = toMs(date, 'set()');
    if (target <= this.time) this.time = target;
    else this.runUntil(target);
  }

  /** How many timers are waiting. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** When the next timer is due, if any. */
  nextTimerAt(): number | undefined {
    return this.timers[0]?.at;
  }

  private runUntil(target: number): void {
    for (;;) {
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      if (next.at > this.time) this.time = next.at;
      next.fn();
    }
    this.time = target;
  }
}

function toMs(value: Date | number, what: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new RangeError(`${what}: not a valid time: ${String(value)}`);
  return ms;
}
