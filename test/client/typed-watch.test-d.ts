// Checked by tsc (npm test runs it first over test/); never run. The types of a task flow to the browser client.
import { expectTypeOf, test } from 'vitest';
import {
  watchTask,
  type ProgressMetaOf,
  type ResultOf,
  type StatusMessage,
  type StatusOf,
  type TaskWatch,
  type TypedTask,
} from '../../src/client/index.js';
import { createApp, type Task, type TaskContext } from '../../src/index.js';
import type { optional, plain, subscribe } from './fixtures/tasks.js';

declare const id: string;

test('the result and progress meta types come from the task definition', () => {
  expectTypeOf<ResultOf<typeof subscribe>>().toEqualTypeOf<{ subscribed: string; at: number }>();
  expectTypeOf<ProgressMetaOf<typeof subscribe>>().toEqualTypeOf<{ step: string }>();
  expectTypeOf<ResultOf<typeof plain>>().toEqualTypeOf<number>();
  expectTypeOf<ResultOf<typeof optional>>().toEqualTypeOf<'yes' | null>();
  expectTypeOf<ProgressMetaOf<typeof optional>>().toEqualTypeOf<{ step?: string; n: number }>();
  expectTypeOf<typeof subscribe>().toEqualTypeOf<Task<[email: string], { subscribed: string; at: number }, { step: string }>>();
});

test('watchTask<typeof task> types onUpdate and done', () => {
  const watch = watchTask<typeof subscribe>(id, {
    onUpdate(message) {
      expectTypeOf(message).toEqualTypeOf<StatusOf<typeof subscribe>>();
      if (message.state === 'SUCCESS')
        expectTypeOf(message.result).toEqualTypeOf<{ subscribed: string; at: number } | undefined>();
      expectTypeOf(message.progress?.meta).toEqualTypeOf<{ step: string } | undefined>();
      const step: string | undefined = message.progress?.meta?.step;
      void step;
      // @ts-expect-error the meta has no such field
      void message.progress?.meta?.percent;
      // @ts-expect-error the result's field is a string
      const wrong: number | undefined = message.result?.subscribed;
      void wrong;
    },
  });
  expectTypeOf(watch).toEqualTypeOf<TaskWatch<typeof subscribe>>();
  expectTypeOf(watch.done).resolves.toHaveProperty('result').toEqualTypeOf<{ subscribed: string; at: number } | undefined>();
});

test('the untyped client is unchanged: unknown result and meta', () => {
  watchTask(id, {
    onUpdate(message) {
      expectTypeOf(message).toEqualTypeOf<StatusMessage>();
      expectTypeOf(message.result).toEqualTypeOf<unknown>();
      expectTypeOf(message.progress?.meta).toEqualTypeOf<unknown>();
    },
  });
  expectTypeOf<StatusOf<TypedTask>>().toEqualTypeOf<StatusMessage>();
  // A task with no ctx annotation: any JSON meta.
  watchTask<typeof plain>(id, { onUpdate: (m) => expectTypeOf(m.result).toEqualTypeOf<number | undefined>() });
});

test('types can be spelled out by hand where there is no server module', () => {
  watchTask<TypedTask<string, { pct: number }>>(id, {
    onUpdate(message) {
      expectTypeOf(message.result).toEqualTypeOf<string | undefined>();
      expectTypeOf(message.progress?.meta?.pct).toEqualTypeOf<number | undefined>();
    },
  });
});

test('wrong uses do not compile', () => {
  // @ts-expect-error a plain value is not a task type
  watchTask<string>(id, { onUpdate: () => {} });
  // @ts-expect-error a function is not a task type
  watchTask<() => void>(id, { onUpdate: () => {} });
  watchTask<typeof subscribe>(id, {
    // @ts-expect-error onUpdate's message is the task's, not one with a numeric result
    onUpdate: (message: StatusMessage<number, { step: string }>) => void message,
  });

  const app = createApp({ broker: 'memory://' });
  app.task('typed.bad', async (ctx: TaskContext<{ step: string }>) => {
    // @ts-expect-error the meta must have the declared shape
    await ctx.progress(1, 2, { step: 3 });
    // @ts-expect-error a field the meta type does not declare
    await ctx.progress(1, 2, { step: 'a', extra: true });
  });
  // @ts-expect-error progress meta must be JSON: a Date is not
  app.task('typed.date', async (_ctx: TaskContext<{ at: Date }>) => 1);
});
