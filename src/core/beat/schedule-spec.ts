import { ConfigError } from '../errors.js';

/** What a beat loop does after downtime or a stall: run the most recent missed tick, or none. */
export type CatchUp = 'latest' | 'none';

/** What every schedule may add to its timing. */
export interface ScheduleOptions {
  catchUp?: CatchUp;
  /** Tags of every task the schedule enqueues (ApplyOptions.tags): follow its runs with app.watchTag. */
  tags?: readonly string[];
}

/** A cron expression (5 fields, or 6 with seconds first), read in `tz` (default UTC). */
export interface CronSpec extends ScheduleOptions {
  cron: string;
  /** An IANA time zone such as 'Europe/Berlin' (default 'UTC'). */
  tz?: string;
}

/** Every `every` ms, on multiples of `every` since the Unix epoch (so every process computes the same ticks). */
export interface EverySpec extends ScheduleOptions {
  every: number;
}

export type ScheduleSpec = CronSpec | EverySpec;

/** The tick times of a schedule, in epoch ms. */
export interface TickPlan {
  /** The first tick strictly after `after`. */
  next(after: number): number;
  /** The last tick at or before `at`. */
  latest(at: number): number;
}

/** Reads a cron expression into a TickPlan; throws ConfigError when it is invalid. */
export type CronPlanner = (expression: string, tz: string | undefined) => TickPlan;

/** A validated schedule, as a beat loop runs it. */
export interface ScheduleEntry {
  readonly name: string;
  readonly task: string;
  readonly args: readonly unknown[];
  readonly spec: ScheduleSpec;
  readonly plan: TickPlan;
  readonly catchUp: CatchUp;
  readonly tags?: readonly string[];
}

/** Ticks on multiples of `every` since the epoch: the same in every process, whenever it started. */
export function everyPlan(every: number): TickPlan {
  return {
    next: (after) => (Math.floor(after / every) + 1) * every,
    latest: (at) => Math.floor(at / every) * every,
  };
}

/** Checks a spec and builds its plan; ConfigError names the schedule. */
export function planSchedule(
  name: string,
  spec: ScheduleSpec,
  cronPlanner: CronPlanner | undefined,
): { plan: TickPlan; catchUp: CatchUp } {
  if (typeof spec !== 'object' || spec === null) throw new ConfigError(`schedule ${name}: needs { cron } or { every }`);
  const catchUp = spec.catchUp ?? 'latest';
  if (catchUp !== 'latest' && catchUp !== 'none') {
    throw new ConfigError(`schedule ${name}: catchUp must be 'latest' or 'none', got ${String(catchUp)}`);
  }
  const hasCron = 'cron' in spec && spec.cron !== undefined;
  const hasEvery = 'every' in spec && spec.every !== undefined;
  if (hasCron === hasEvery) throw new ConfigError(`schedule ${name}: give cron or every, not ${hasCron ? 'both' : 'neither'}`);
  if (hasEvery) {
    const every = (spec as EverySpec).every;
    if (typeof every !== 'number' || !Number.isSafeInteger(every) || every <= 0) {
      throw new ConfigError(`schedule ${name}: every must be a whole number of ms > 0, got ${String(every)}`);
    }
    return { plan: everyPlan(every), catchUp };
  }
  const { cron, tz } = spec as CronSpec;
  if (typeof cron !== 'string' || cron.trim() === '') throw new ConfigError(`schedule ${name}: cron must be a non-empty string`);
  if (tz !== undefined) checkTimeZone(name, tz);
  if (!cronPlanner)
    throw new ConfigError(`schedule ${name}: cron schedules need an app made by createApp() (or ErrandOptions.cronPlanner)`);
  try {
    return { plan: cronPlanner(cron, tz), catchUp };
  } catch (error) {
    throw new ConfigError(`schedule ${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function checkTimeZone(name: string, tz: string): void {
  try {
    if (typeof tz !== 'string') throw new RangeError();
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new ConfigError(`schedule ${name}: unknown time zone ${JSON.stringify(tz)}`);
  }
}
