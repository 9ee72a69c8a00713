// The example of docs/testing.md, kept running.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Errand } from '../../src/index.js';
import { createTestApp, expectEnqueued, expectSucceeded, type TestApp } from '../../src/testing/index.js';

function defineTasks(app: Errand) {
  const sendWelcome = app.task('users.welcome', async (_ctx, email: string) => ({ sent: email }));
  const signUp = app.task(
    'users.signup',
    async (_ctx, email: string) => {
      await sendWelcome.applyAsync([email], { countdown: 60_000 }); // a minute later
      return { ok: true };
    },
    { retry: { max: 3 } },
  );
  return { sendWelcome, signUp };
}

let t: TestApp;
let tasks: ReturnType<typeof defineTasks>;
beforeEach(() => {
  t = createTestApp({ now: new Date('2030-01-01T00:00:00Z') });
  tasks = defineTasks(t.app);
});
afterEach(() => t.close());

it('signing up sends the welcome mail a minute later', async () => {
  const r = await tasks.signUp.delay('a@example.com');
  expect(await r.get()).toEqual({ ok: true });
  const [welcome] = expectEnqueued(t, 'users.welcome', { args: ['a@example.com'], times: 1 });
  expect(welcome!.runAt).toBe(Date.parse('2030-01-01T00:01:00Z'));

  await t.advance(59_999); // nothing is due yet
  expect(t.resultsOf('users.welcome')).toEqual([]);
  await t.advance(1); // inline: advance() runs what fell due
  expectSucceeded(t, 'users.welcome', { result: { sent: 'a@example.com' } });
});
