import { describe, expectTypeOf, it } from 'vitest';
import { createApp, type AsyncResult, type TaskContext } from '../../src/index.js';

// Checked by tsc (npm test runs it first); at run time these assertions are no-ops.
const app = createApp({ broker: 'memory://' });

describe('argument and result types flow from the handler', () => {
  const subscribe = app.task('types.subscribe', async (_ctx, email: string, count: number) => ({ ok: true, email, count }));

  it('delay and applyAsync take the handler arguments', () => {
    expectTypeOf(subscribe.delay).parameters.toEqualTypeOf<[email: string, count: number]>();
    expectTypeOf(subscribe.applyAsync).parameter(0).toEqualTypeOf<[email: string, count: number]>();
    // @ts-expect-error a number where a string is expected
    void subscribe.delay(42, 1);
    // @ts-expect-error a missing argument
    void subscribe.delay('a@example.com');
    // @ts-expect-error arguments must be a tuple
    void subscribe.applyAsync('a@example.com', { countdown: 5 });
  });

  it('the AsyncResult carries the awaited result type', () => {
    expectTypeOf(subscribe.delay).returns.resolves.toEqualTypeOf<AsyncResult<{ ok: boolean; email: string; count: number }>>();
    const sync = app.task('types.sync', (_ctx: TaskContext) => 7);
    expectTypeOf(sync.delay).returns.resolves.toEqualTypeOf<AsyncResult<number>>();
  });

  it('apply options are checked', () => {
    // @ts-expect-error unknown option
    void subscribe.applyAsync(['a', 1], { countdwn: 5 });
    expectTypeOf(subscribe.applyAsync).parameter(1).exclude<undefined>().toHaveProperty('idempotencyKey');
  });
});
