import { afterEach, describe, expect, it } from 'vitest';
import {
  AssertionError,
  createTestApp,
  expectEnqueued,
  expectFailed,
  expectNotEnqueued,
  expectSucceeded,
  jsonEqual,
  type TestApp,
} from '../../src/testing/index.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.splice(0)) await t.close();
});

function setup(mode: 'inline' | 'manual' = 'inline') {
  const t = createTestApp({ mode });
  apps.push(t);
  const notify = t.app.task('notify', (_ctx, user: { id: number; tags: string[] }, channel: string) => `${user.id}:${channel}`);
  const charge = t.app.task('charge', (_ctx, cents: number) => {
    if (cents < 0) throw new RangeError(`cannot charge ${cents} cents`);
    return { charged: cents };
  });
  return { t, notify, charge };
}

/** The message of what `fn` throws (it must throw an AssertionError). */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AssertionError);
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error('expected an AssertionError');
}

describe('errand/testing assertions', () => {
  it('expectEnqueued matches by name, args (as JSON data, key order ignored), queue and count', async () => {
    const { t, notify } = setup();
    await notify.delay({ id: 7, tags: ['a'] }, 'sms');
    await notify.delay({ id: 8, tags: [] }, 'email');
    expect(expectEnqueued(t, 'notify')).toHaveLength(2);
    const [hit] = expectEnqueued(t, 'notify', { args: [{ tags: ['a'], id: 7 }, 'sms'], times: 1, queue: 'default' });
    expect(hit!.args).toEqual([{ id: 7, tags: ['a'] }, 'sms']);
    expectEnqueued(t, 'notify', { times: 2 });
  });

  it('expectEnqueued says what it wanted and lists what was enqueued', async () => {
    const { t, notify } = setup();
    expect(failure(() => expectEnqueued(t, 'notify'))).toBe(
      'expected task "notify" to be enqueued at least once, found 0; nothing was enqueued',
    );
    await notify.delay({ id: 7, tags: [] }, 'sms');
    expect(failure(() => expectEnqueued(t, 'notify', { args: [{ id: 8, tags: [] }, 'sms'] }))).toBe(
      'expected task "notify" with args [{"id":8,"tags":[]},"sms"] to be enqueued at least once, found 0; enqueued:\n' +
        '  notify({"id":7,"tags":[]},"sms")',
    );
    expect(failure(() => expectEnqueued(t, 'notify', { times: 2 }))).toMatch(/to be enqueued 2 times, found 1/);
  });

  it('expectNotEnqueued', async () => {
    const { t, notify, charge } = setup();
    expectNotEnqueued(t);
    await charge.delay(5);
    expectNotEnqueued(t, 'notify');
    expect(failure(() => expectNotEnqueued(t, 'charge'))).toBe(
      'expected task "charge" not to be enqueued; enqueued:\n  charge(5)',
    );
    await notify.delay({ id: 1, tags: [] }, 'x');
    expect(failure(() => expectNotEnqueued(t))).toMatch(
      /^expected no task to be enqueued; enqueued:\n {2}charge\(5\)\n {2}notify/,
    );
  });

  it('expectSucceeded and expectFailed look at finished tasks', async () => {
    const { t, charge } = setup('manual');
    await charge.delay(100);
    await charge.delay(-1);
    expect(failure(() => expectSucceeded(t, 'charge'))).toBe(
      'expected task "charge" to succeed; no task has finished (in manual mode, call drain())',
    );
    await t.drain();
    expect(expectSucceeded(t, 'charge', { args: [100], result: { charged: 100 } }).state).toBe('SUCCESS');
    expect(expectFailed(t, 'charge', { errorType: 'RangeError', message: /cannot charge -1/ }).args).toEqual([-1]);
    expectFailed(t, 'charge', { message: 'cannot' });
    expect(failure(() => expectSucceeded(t, 'charge', { result: { charged: 5 } }))).toBe(
      'expected task "charge" to succeed with result {"charged":5}; finished:\n' +
        '  charge(100) → SUCCESS {"charged":100}\n' +
        '  charge(-1) → FAILURE RangeError: cannot charge -1 cents',
    );
    expect(failure(() => expectFailed(t, 'charge', { args: [100] }))).toMatch(
      /^expected task "charge" with args \[100\] to fail;/,
    );
  });

  it('jsonEqual compares as JSON data', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ when: new Date(0) }, { when: '1970-01-01T00:00:00.000Z' })).toBe(true);
  });
});
