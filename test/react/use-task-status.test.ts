// @vitest-environment happy-dom
import { act, renderHook } from '@testing-library/react';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StatusOf } from '../../src/client/index.js';
import { useTaskStatus, type UseTaskStatusOptions } from '../../src/react/index.js';
import { CLOSED_PORT, eventually, servePageFrom, setVisibility, spyOnTransports, type Spies } from './dom-support.js';
import type { ReactTasks } from './fixtures/tasks.js';
import { startReactEnv, type ReactTestEnv } from './react-server.js';

type Subscribe = ReactTasks['subscribe'];

// The hook in happy-dom against a real errand server (memory broker + worker); happy-dom's fetch and WebSocket do the I/O.
describe('useTaskStatus against a real server', () => {
  let env: ReactTestEnv;
  let spies: Spies;

  beforeAll(async () => {
    env = await startReactEnv();
    servePageFrom(env.web.base);
  });
  beforeEach(() => {
    spies = spyOnTransports();
    setVisibility('visible');
  });
  afterEach(() => spies.restore());
  afterAll(() => env.close());

  const slowTask = (steps = 3, stepMs = 30, countdown = 300) =>
    env.tasks.subscribe.applyAsync(['ada@example.com', steps, stepMs], { countdown });

  function follow(id: string | undefined, options: UseTaskStatusOptions<Subscribe> = {}) {
    const updates: Array<StatusOf<Subscribe>> = [];
    const hook = renderHook(
      (props: { id: string | undefined }) => useTaskStatus<Subscribe>(props.id, { ...options, onUpdate: (m) => updates.push(m) }),
      {
        initialProps: { id },
      },
    );
    return { ...hook, updates };
  }

  it('goes through the states in order to SUCCESS, with progress and the typed result', async () => {
    const r = await slowTask();
    const { result, updates, unmount } = follow(r.id);
    expect(result.current).toMatchObject({ id: r.id, connection: 'connecting', state: undefined, done: false });
    await eventually(() => expect(result.current.done).toBe(true));
    const status = result.current;
    expect(status).toMatchObject({ state: 'SUCCESS', connection: 'closed', transport: 'ws', error: undefined });
    expect(status.result).toEqual({ subscribed: 'ada@example.com' });
    const subscribed: string | undefined = status.result?.subscribed; // typed from the task definition
    expect(subscribed).toBe('ada@example.com');
    expect(status.progress).toEqual({ current: 3, total: 3, meta: { step: 'step 3' } });
    expect(updates.map((u) => u.state)).toEqual(['PENDING', 'STARTED', 'PROGRESS', 'PROGRESS', 'PROGRESS', 'SUCCESS']);
    expect(updates.filter((u) => u.state === 'PROGRESS').map((u) => u.progress?.meta?.step)).toEqual([
      'step 1',
      'step 2',
      'step 3',
    ]);
    expect(updates.map((u) => u.version)).toEqual([1, 2, 3, 4, 5, 6]);
    unmount();
  });

  it('reports FAILURE with the error message', async () => {
    const r = await env.tasks.fail.delay('the provider said no');
    const { result, unmount } = follow(r.id);
    await eventually(() => expect(result.current.done).toBe(true));
    expect(result.current).toMatchObject({
      state: 'FAILURE',
      error: 'the provider said no',
      errorType: 'TypeError',
      result: undefined,
    });
    unmount();
  });

  it('an unknown id ends in connection "error" with the server’s reason', async () => {
    const { result, unmount } = follow(randomUUID());
    await eventually(() => expect(result.current.connection).toBe('error'));
    expect(result.current.watchError?.code).toBe('not_found');
    expect(result.current.done).toBe(false);
    unmount();
  });

  it('falls back to SSE when WebSocket cannot connect', async () => {
    spies.refuseWebSockets(CLOSED_PORT);
    const r = await slowTask();
    const { result, updates, unmount } = follow(r.id);
    await eventually(() => expect(result.current.done).toBe(true));
    expect(result.current).toMatchObject({ state: 'SUCCESS', transport: 'sse', connection: 'closed' });
    expect(spies.sockets.length).toBe(1);
    expect(updates.map((u) => u.state)).toContain('STARTED'); // pushed, not polled
    expect(spies.requests).toContain('GET /tasks/:id/events');
    unmount();
  });

  it('falls back to polling when WebSocket and SSE both fail', async () => {
    spies.refuseWebSockets(CLOSED_PORT);
    spies.refuseSse();
    const r = await slowTask(2, 20, 100);
    const { result, unmount } = follow(r.id, { pollIntervalMs: 25 });
    await eventually(() => expect(result.current.done).toBe(true));
    expect(result.current).toMatchObject({ state: 'SUCCESS', transport: 'poll', result: { subscribed: 'ada@example.com' } });
    expect(spies.requests).toContain('GET /task_status/');
    unmount();
  });

  it('stops after the terminal state: no more requests, no socket left', async () => {
    const r = await slowTask(1, 10, 100);
    const { result, unmount } = follow(r.id, { transport: 'poll', pollIntervalMs: 20 });
    await eventually(() => expect(result.current.done).toBe(true));
    const polls = spies.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(spies.requests.length).toBe(polls);
    expect(result.current.connection).toBe('closed');
    unmount();

    const ws = await slowTask(1, 10, 100);
    const second = follow(ws.id);
    await eventually(() => expect(second.result.current.done).toBe(true));
    await eventually(() => expect(spies.openSockets()).toBe(0)); // the server closed it after the terminal message
    expect(env.watchers(ws.id)).toBe(0);
    second.unmount();
  });

  it('pauses while the tab is hidden and re-syncs when it is visible again', async () => {
    const r = await slowTask(3, 60, 200);
    const { result, updates, unmount } = follow(r.id);
    await eventually(() => expect(result.current.connection).toBe('open'));
    await eventually(() => expect(env.watchers(r.id)).toBe(1));
    act(() => setVisibility('hidden'));
    expect(result.current.connection).toBe('paused');
    await eventually(() => expect(spies.openSockets()).toBe(0));
    await eventually(() => expect(env.watchers(r.id)).toBe(0));
    const seenWhileHidden = updates.length;

    await r.get({ timeout: 10_000 }); // the task finishes while nobody watches
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(updates.length).toBe(seenWhileHidden);
    expect(result.current.done).toBe(false);

    act(() => setVisibility('visible'));
    await eventually(() => expect(result.current.done).toBe(true));
    expect(result.current).toMatchObject({ state: 'SUCCESS', result: { subscribed: 'ada@example.com' } });
    expect(spies.sockets.length).toBe(2);
    // On resume the first message is the current state, newer than anything seen: versions never repeat.
    const versions = updates.map((u) => u.version);
    expect(new Set(versions).size).toBe(versions.length);
    expect(updates.at(-1)?.state).toBe('SUCCESS');
    unmount();
  });

  it('starts paused in a hidden tab, and pauseWhenHidden: false keeps watching', async () => {
    setVisibility('hidden');
    const r = await slowTask(1, 10, 100);
    const paused = follow(r.id);
    expect(paused.result.current.connection).toBe('paused');
    const kept = follow(r.id, { pauseWhenHidden: false });
    await eventually(() => expect(kept.result.current.done).toBe(true));
    expect(paused.result.current).toMatchObject({ connection: 'paused', state: undefined });
    act(() => setVisibility('visible'));
    await eventually(() => expect(paused.result.current.done).toBe(true));
    paused.unmount();
    kept.unmount();
  });

  it('closes its connection on unmount', async () => {
    for (const transport of ['ws', 'sse'] as const) {
      const r = await slowTask(3, 50, 300);
      const { result, unmount } = follow(r.id, { transport });
      await eventually(() => expect(result.current.connection).toBe('open'));
      await eventually(() => expect(env.watchers(r.id)).toBe(1));
      unmount();
      await eventually(() => expect(spies.openSockets()).toBe(0));
      await eventually(() => expect(env.watchers(r.id), transport).toBe(0));
    }
  });

  it('follows the new task when the id changes, and lets the old one go', async () => {
    const first = await slowTask(3, 100, 300);
    const second = await slowTask(1, 10, 50);
    const { result, rerender, updates, unmount } = follow(first.id);
    await eventually(() => expect(env.watchers(first.id)).toBe(1));
    rerender({ id: second.id });
    expect(result.current).toMatchObject({ id: second.id, state: undefined, version: 0, connection: 'connecting' });
    await eventually(() => expect(env.watchers(first.id)).toBe(0));
    await eventually(() => expect(result.current.done).toBe(true));
    expect(result.current).toMatchObject({ id: second.id, state: 'SUCCESS' });
    expect(new Set(updates.map((u) => u.state)).has('SUCCESS')).toBe(true);

    rerender({ id: undefined });
    expect(result.current).toMatchObject({ id: undefined, connection: 'idle', state: undefined });
    unmount();
    await eventually(() => expect(spies.openSockets()).toBe(0));
  });
});
