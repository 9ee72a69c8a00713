// Checked by tsc (npm test runs it over test/); never run. The task's types reach the hooks through `import type`.
import { expectTypeOf, test } from 'vitest';
import type { StatusOf, TaskState, TransportName, TypedTask } from '../../src/client/index.js';
import { useEnqueue, useTaskStatus, type TaskConnection, type TaskStatus } from '../../src/react/index.js';
import type { plain, subscribe } from '../client/fixtures/tasks.js';

declare const id: string | undefined;

test('useTaskStatus<typeof task> types result and progress meta', () => {
  const status = useTaskStatus<typeof subscribe>(id, { transport: 'sse', baseUrl: '/users', pollIntervalMs: 500 });
  expectTypeOf(status).toEqualTypeOf<TaskStatus<typeof subscribe>>();
  expectTypeOf(status.result).toEqualTypeOf<{ subscribed: string; at: number } | undefined>();
  expectTypeOf(status.progress?.meta).toEqualTypeOf<{ step: string } | undefined>();
  expectTypeOf(status.message).toEqualTypeOf<StatusOf<typeof subscribe> | undefined>();
  expectTypeOf(status.state).toEqualTypeOf<TaskState | undefined>();
  expectTypeOf(status.connection).toEqualTypeOf<TaskConnection>();
  expectTypeOf(status.transport).toEqualTypeOf<TransportName | undefined>();
  expectTypeOf(status.done).toEqualTypeOf<boolean>();
  useTaskStatus<typeof subscribe>(id, {
    onUpdate: (m) => expectTypeOf(m.progress?.meta?.step).toEqualTypeOf<string | undefined>(),
  });
  // @ts-expect-error the meta has no such field
  void status.progress?.meta?.percent;
  // @ts-expect-error the result is an object, not a number
  const n: number | undefined = status.result;
  void n;
});

test('untyped, the result and meta are unknown', () => {
  const status = useTaskStatus(id);
  expectTypeOf(status).toEqualTypeOf<TaskStatus<TypedTask>>();
  expectTypeOf(status.result).toEqualTypeOf<unknown>();
  expectTypeOf(useTaskStatus<typeof plain>(null).result).toEqualTypeOf<number | undefined>();
});

test('useEnqueue<typeof task> types the status it follows', () => {
  const enqueue = useEnqueue<typeof subscribe>('/form/', { csrf: true, encoding: 'form', baseUrl: '' });
  expectTypeOf(enqueue.status.result).toEqualTypeOf<{ subscribed: string; at: number } | undefined>();
  expectTypeOf(enqueue.submit).returns.resolves.toEqualTypeOf<string | undefined>();
  expectTypeOf(enqueue.taskId).toEqualTypeOf<string | undefined>();
  expectTypeOf(enqueue.pending).toEqualTypeOf<boolean>();
  void enqueue.submit({ email: 'a@example.com' });
  void enqueue.submit(new URLSearchParams());
  useEnqueue('/users/form/', { csrf: { header: 'X-CSRF-Token', token: () => 'abc' } });
});

test('wrong uses do not compile', () => {
  // @ts-expect-error a plain value is not a task type
  useTaskStatus<string>(id);
  // @ts-expect-error unknown transport
  useTaskStatus(id, { transport: 'carrier-pigeon' });
  // @ts-expect-error encoding is form or json
  useEnqueue('/form/', { encoding: 'xml' });
  const { submit } = useEnqueue('/form/');
  // @ts-expect-error a string is not a body
  void submit('email=a');
});
