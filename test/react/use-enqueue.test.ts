// @vitest-environment happy-dom
import { act, renderHook } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useEnqueue, type UseEnqueueOptions } from '../../src/react/index.js';
import { eventually, servePageFrom, setVisibility, spyOnTransports, type Spies } from './dom-support.js';
import type { ReactTasks } from './fixtures/tasks.js';
import { startReactEnv, type ReactTestEnv } from './react-server.js';

type Subscribe = ReactTasks['subscribe'];

// POST-then-watch against the real server: POST /form/ (urlencoded + CSRF header) and POST /users/form/ (JSON).
describe('useEnqueue against a real server', () => {
  let env: ReactTestEnv;
  let spies: Spies;

  beforeAll(async () => {
    env = await startReactEnv();
    servePageFrom(env.web.base);
    // The page was served by GET /form/, which set the csrftoken cookie the hook copies into X-CSRFToken.
    const page = await fetch('/form/');
    expect(page.status).toBe(200);
    expect(document.cookie).toMatch(/csrftoken=/);
  });
  beforeEach(() => {
    spies = spyOnTransports();
    setVisibility('visible');
  });
  afterEach(() => spies.restore());
  afterAll(() => env.close());

  const render = (url: string, options: UseEnqueueOptions<Subscribe>) => renderHook(() => useEnqueue<Subscribe>(url, options));

  it('posts the form with the CSRF header, then follows the task to its result', async () => {
    const { result, unmount } = render('/form/', { csrf: true });
    expect(result.current).toMatchObject({ pending: false, taskId: undefined, error: undefined });
    expect(result.current.status.connection).toBe('idle');

    let id: string | undefined;
    const form = new FormData();
    form.set('email', 'ada@example.com');
    form.set('steps', '2');
    form.set('countdown', '200');
    await act(async () => {
      id = await result.current.submit(form);
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.current).toMatchObject({ taskId: id, pending: true });
    await eventually(() => expect(result.current.status.done).toBe(true));
    expect(result.current.pending).toBe(false);
    expect(result.current.status).toMatchObject({ state: 'SUCCESS', transport: 'ws' });
    const subscribed: string | undefined = result.current.status.result?.subscribed;
    expect(subscribed).toBe('ada@example.com');
    expect(spies.requests[0]).toBe('POST /form/');
    unmount();
  });

  it('is pending from the moment submit is called', async () => {
    const { result, unmount } = render('/users/form/', { baseUrl: '/users' });
    let submitted!: Promise<string | undefined>;
    act(() => {
      submitted = result.current.submit({ email: 'bob@example.com', steps: 1, countdown: 100 });
    });
    expect(result.current.pending).toBe(true);
    expect(result.current.taskId).toBeUndefined();
    await act(async () => void (await submitted));
    await eventually(() => expect(result.current.status.done).toBe(true));
    expect(result.current).toMatchObject({ pending: false, error: undefined });
    unmount();
  });

  it('reports a refused submission (no CSRF token) and watches nothing', async () => {
    const { result, unmount } = render('/form/', {});
    let id: string | undefined = 'unset';
    await act(async () => {
      id = await result.current.submit(new URLSearchParams({ email: 'ada@example.com' }));
    });
    expect(id).toBeUndefined();
    expect(result.current).toMatchObject({ pending: false, taskId: undefined, error: 'CSRF token missing or incorrect.' });
    expect(result.current.submitError?.status).toBe(403);
    expect(result.current.status.connection).toBe('idle');
    expect(spies.sockets).toHaveLength(0);
    unmount();
  });

  it('hands validation errors back with their body', async () => {
    const { result, unmount } = render('/users/form/', {});
    await act(async () => void (await result.current.submit({ email: 'not-an-email' })));
    expect(result.current.submitError).toMatchObject({
      status: 400,
      body: { error: 'validation', fields: { email: 'Enter a valid email address.' } },
    });
    expect(result.current.pending).toBe(false);
    unmount();
  });

  it('shows the task’s error when it fails, and reset() forgets it', async () => {
    const { result, unmount } = render('/users/form/', { transport: 'sse', baseUrl: '/users' });
    await act(async () => void (await result.current.submit({ email: 'fail@example.com' })));
    await eventually(() => expect(result.current.status.done).toBe(true));
    expect(result.current).toMatchObject({ pending: false, error: 'could not subscribe fail@example.com' });
    expect(result.current.status).toMatchObject({ state: 'FAILURE', transport: 'sse' });
    act(() => result.current.reset());
    expect(result.current).toMatchObject({ taskId: undefined, error: undefined, pending: false });
    unmount();
  });

  it('a second submit replaces the first; unmounting closes the watch', async () => {
    const { result, unmount } = render('/users/form/', {});
    let first: string | undefined;
    let second: string | undefined;
    await act(
      async () => void (first = await result.current.submit({ email: 'a@example.com', steps: 3, stepMs: 100, countdown: 200 })),
    );
    await eventually(() => expect(env.watchers(first!)).toBe(1));
    await act(
      async () => void (second = await result.current.submit({ email: 'b@example.com', steps: 3, stepMs: 100, countdown: 200 })),
    );
    expect(result.current.taskId).toBe(second);
    await eventually(() => expect(env.watchers(first!)).toBe(0));
    await eventually(() => expect(env.watchers(second!)).toBe(1));
    unmount();
    await eventually(() => expect(env.watchers(second!)).toBe(0));
    await eventually(() => expect(spies.openSockets()).toBe(0));
  });
});
