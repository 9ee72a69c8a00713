import { describe, expect, it } from 'vitest';
import { cronPlanner } from '../../src/beat/cron-planner.js';
import { everyPlan, planSchedule } from '../../src/core/beat/schedule-spec.js';
import { ConfigError, createApp } from '../../src/index.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('every: ticks on multiples of the period since the epoch', () => {
  const plan = everyPlan(30_000);
  it('next is strictly after, latest is at or before', () => {
    expect(iso(plan.next(at('2026-01-01T00:00:10Z')))).toBe('2026-01-01T00:00:30.000Z');
    expect(iso(plan.next(at('2026-01-01T00:00:30Z')))).toBe('2026-01-01T00:01:00.000Z');
    expect(iso(plan.latest(at('2026-01-01T00:00:30Z')))).toBe('2026-01-01T00:00:30.000Z');
    expect(iso(plan.latest(at('2026-01-01T00:00:59.999Z')))).toBe('2026-01-01T00:00:30.000Z');
  });
  it('is the same whatever time a process starts at', () => {
    const p = everyPlan(250);
    expect(p.next(1_000_000_001)).toBe(p.next(1_000_000_249));
    expect(p.next(1_000_000_001) % 250).toBe(0);
  });
});

describe('cron: seconds field and time zones', () => {
  it('six fields: seconds first', () => {
    const plan = cronPlanner('*/10 * * * * *', undefined);
    expect(iso(plan.next(at('2026-01-01T12:00:05Z')))).toBe('2026-01-01T12:00:10.000Z');
    expect(iso(plan.next(at('2026-01-01T12:00:10Z')))).toBe('2026-01-01T12:00:20.000Z');
    expect(iso(plan.latest(at('2026-01-01T12:00:10Z')))).toBe('2026-01-01T12:00:10.000Z');
    expect(iso(plan.latest(at('2026-01-01T12:00:19.5Z')))).toBe('2026-01-01T12:00:10.000Z');
  });
  it('five fields: minutes first, read in UTC by default', () => {
    const plan = cronPlanner('30 9 * * *', undefined);
    expect(iso(plan.next(at('2026-07-01T00:00:00Z')))).toBe('2026-07-01T09:30:00.000Z');
  });
  it('tz: 09:00 in Berlin is 07:00 UTC in summer and 08:00 UTC in winter', () => {
    const plan = cronPlanner('0 9 * * *', 'Europe/Berlin');
    expect(iso(plan.next(at('2026-07-01T00:00:00Z')))).toBe('2026-07-01T07:00:00.000Z');
    expect(iso(plan.next(at('2026-12-01T00:00:00Z')))).toBe('2026-12-01T08:00:00.000Z');
    expect(iso(plan.latest(at('2026-12-01T08:00:00Z')))).toBe('2026-12-01T08:00:00.000Z');
  });
  it('tz: a time the spring-forward gap skips runs once, just after the gap', () => {
    const plan = cronPlanner('30 2 * * *', 'Europe/Berlin');
    const first = plan.next(at('2026-03-28T12:00:00Z'));
    expect(iso(first)).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(iso(plan.next(first))).toBe('2026-03-30T00:30:00.000Z'); // 02:30 CEST
  });
});

describe('schedule validation: ConfigError', () => {
  const app = createApp({ broker: 'memory://', logger: false });
  const task = app.task('beat.noop', () => 'ok');
  it.each([
    ['a bad cron field', { cron: '61 * * * *' }, /schedule s: .*61/],
    ['too few cron fields', { cron: '* * *' }, /needs 5 fields/],
    ['a word', { cron: 'hello' }, /schedule s/],
    ['a cron that never matches', { cron: '0 0 0 30 2 *' }, /schedule s/],
    ['an unknown time zone', { cron: '* * * * *', tz: 'Mars/Olympus' }, /unknown time zone/],
    ['every 0', { every: 0 }, /every must be/],
    ['every < 0', { every: -5 }, /every must be/],
    ['every not whole', { every: 1.5 }, /every must be/],
    ['every NaN', { every: Number.NaN }, /every must be/],
    ['both', { every: 1000, cron: '* * * * *' }, /not both/],
    ['neither', {}, /not neither/],
    ['a bad catchUp', { every: 1000, catchUp: 'all' }, /catchUp/],
  ])('%s', (_, spec, message) => {
    expect(() => app.schedule('s', spec as never, task)).toThrow(ConfigError);
    expect(() => app.schedule('s', spec as never, task)).toThrow(message);
  });
  it('a duplicate name, an unknown task, a bad name', () => {
    app.schedule('dup', { every: 1000 }, task);
    expect(() => app.schedule('dup', { every: 2000 }, task)).toThrow(/already defined/);
    expect(() => app.schedule('x', { every: 1000 }, 'no.such.task')).toThrow(/unknown task no.such.task/);
    expect(() => app.schedule('', { every: 1000 }, task)).toThrow(ConfigError);
    expect(app.scheduleNames).toEqual(['dup']);
  });
  it('planSchedule without a cron planner refuses cron, keeps every', () => {
    expect(() => planSchedule('c', { cron: '* * * * *' }, undefined)).toThrow(/createApp/);
    expect(planSchedule('e', { every: 5 }, undefined).catchUp).toBe('latest');
  });
  it('typed args are checked against the task', async () => {
    const add = app.task('beat.add', (_ctx, a: number, b: number) => a + b);
    app.schedule('typed', { every: 1000 }, add, [1, 2]);
    // @ts-expect-error a string where the task takes a number
    app.schedule('typed-bad', { every: 1000 }, add, ['1', 2]);
    await app.close();
  });
});
