import type { EnqueueOutcome } from '../backend.js';
import type { Clock, ClockTimer } from '../clock.js';
import type { Logger } from '../logger.js';
import { trackClosed, trackOpened } from '../resources.js';
import type { ScheduleEntry } from './schedule-spec.js';

/** A running beat loop (app.beat(), or a worker started with beat: true). */
export interface BeatHandle {
  /** Cancels the timers and waits for enqueues under way. */
  stop(): Promise<void>;
}

export interface BeatDependencies {
  clock: Clock;
  logger: Logger;
  /** Enqueues tick `tick` of `entry` under its idempotency key. */
  enqueueTick(entry: ScheduleEntry, tick: number): Promise<EnqueueOutcome>;
}

/** The idempotency key of one tick: the same in every beat process, so only the first enqueue stores a task. */
export function tickKey(schedule: string, tick: number): string {
  return `beat:${schedule}:${tick}`;
}

/** Longest single wait: setTimeout overflows past 2^31 ms, and a wall-clock jump is noticed within this. */
const MAX_WAIT_MS = 60_000;

/**
 * One timer per schedule, armed for the next tick's absolute time and
 * re-planned from the clock after each fire, so waits never add up to drift.
 * Nothing is stored per schedule: exactly-once per tick comes from the tick's
 * idempotency key, so several loops (processes) can run side by side.
 */
export class BeatLoop implements BeatHandle {
  private readonly timers = new Map<string, ClockTimer>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private stopping?: Promise<void>;

  constructor(
    private readonly entries: readonly ScheduleEntry[],
    private readonly deps: BeatDependencies,
  ) {}

  start(): this {
    trackOpened(this, `beat loop (${this.entries.map((e) => e.name).join(', ') || 'no schedules'})`);
    const now = this.deps.clock.now();
    for (const entry of this.entries) {
      // 'latest': the most recent tick at or before now; if it already fired, its key makes this a no-op
      this.arm(entry, entry.catchUp === 'latest' ? entry.plan.latest(now) : entry.plan.next(now));
    }
    this.deps.logger.info({ schedules: this.entries.map((e) => e.name) }, 'beat started');
    return this;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      for (const timer of this.timers.values()) this.deps.clock.clearTimer(timer);
      this.timers.clear();
      await Promise.all([...this.inFlight]);
      trackClosed(this);
      this.deps.logger.info({}, 'beat stopped');
    })();
    return this.stopping;
  }

  private arm(entry: ScheduleEntry, tick: number): void {
    if (this.stopped) return;
    const wait = Math.min(MAX_WAIT_MS, Math.max(0, tick - this.deps.clock.now()));
    this.timers.set(
      entry.name,
      this.deps.clock.setTimer(() => this.due(entry, tick), wait),
    );
  }

  private due(entry: ScheduleEntry, tick: number): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    if (now < tick) return this.arm(entry, tick); // woke early (a capped wait, a clock set back)
    this.fire(entry, tick, now);
    let next = entry.plan.next(tick);
    if (next <= now && entry.plan.next(next) <= now) {
      // More than one tick overdue: the process was suspended or its loop blocked. Treat it as
      // downtime (the catch-up policy) instead of firing a burst of stale ticks.
      const resume = entry.catchUp === 'latest' ? entry.plan.latest(now) : entry.plan.next(now);
      this.deps.logger.warn(
        { schedule: entry.name, tick, resume, lateMs: now - tick },
        'beat fell behind; skipping to the catch-up tick',
      );
      next = resume;
    }
    this.arm(entry, next);
  }

  private fire(entry: ScheduleEntry, tick: number, now: number): void {
    const done: Promise<void> = this.deps
      .enqueueTick(entry, tick)
      .then(
        (outcome) =>
          this.deps.logger.debug(
            {
              schedule: entry.name,
              task: entry.task,
              tick,
              taskId: outcome.id,
              created: outcome.created,
              lateMs: now - tick,
              enqueueMs: this.deps.clock.now() - now,
            },
            'beat fired',
          ),
        // a broker failure loses this tick here (another beat process may still store it); the next tick tries again
        (error: unknown) =>
          this.deps.logger.error({ schedule: entry.name, task: entry.task, tick, err: error }, 'beat could not enqueue a tick'),
      )
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }
}
