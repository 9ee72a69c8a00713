import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { watchTask, type StatusMessage, type TransportName } from '../../src/client/index.js';
import { createApp, type Errand, type Worker } from '../../src/index.js';
import { defineWebTasks } from '../fixtures/web/tasks.js';
import { ADAPTERS, expectIncreasing, startAdapter, states, type AdapterServer } from './web-support.js';

// The browser client run in Node against a real server through every adapter: fetch is global
// here, WebSocket is lent from the ws package (Node 20 has none).
describe.each(ADAPTERS)('errand/client against a real server (%s)', (adapter) => {
  let app: Errand;
  let worker: Worker;
  let tasks: ReturnType<typeof defineWebTasks>;
  let web: AdapterServer;
  /** The same adapter without the WebSocket route: what Next.js route handlers and Bun serve. */
  let noWs: AdapterServer;
  const g = globalThis as { WebSocket?: unknown };
  const original = g.WebSocket;

  beforeAll(async () => {
    app = createApp({ broker: 'memory://', logger: false });
    tasks = defineWebTasks(app);
    worker = app.worker({ handleSignals: false, claimWaitMs: 50 });
    await worker.start();
    web = await startAdapter(adapter, app, ['', '/users'], { exposeResult: true });
    noWs = await startAdapter(adapter, app, [''], { exposeResult: true }, { noUpgrades: adapter !== 'fastify' });
  });
  afterEach(() => {
    g.WebSocket = original;
  });
  afterAll(async () => {
    await web.close();
    await noWs.close();
    await app.close();
  });

  async function follow(transport: TransportName, baseUrl: string) {
    const r = await tasks.steps.applyAsync([3, 20], { countdown: 400 });
    const updates: StatusMessage[] = [];
    const watch = watchTask(r.id, { transport, baseUrl, pollIntervalMs: 20, onUpdate: (s) => updates.push(s) });
    const final = await watch.done;
    return { final, updates };
  }

  for (const transport of ['ws', 'sse', 'poll'] as const) {
    it(`follows a task to SUCCESS over ${transport}`, async () => {
      g.WebSocket = NodeWebSocket;
      const { final, updates } = await follow(transport, `${web.base}/users`);
      expect(final).toMatchObject({ state: 'SUCCESS', result: 'done' });
      expect(updates[0]).toMatchObject({ state: 'PENDING', version: 1 });
      expect(updates.at(-1)).toEqual(final);
      expectIncreasing(updates.map((u) => u.version));
      if (transport !== 'poll') expect(states(updates)).toContain('STARTED');
    });
  }

  it('falls back to SSE where there is no WebSocket', async () => {
    g.WebSocket = undefined;
    const { final, updates } = await follow('ws', web.base);
    expect(final.state).toBe('SUCCESS');
    expect(states(updates)).toContain('STARTED'); // pushed, not polled once a second
  });

  it.skipIf(adapter === 'fastify')('falls back to SSE where the server has no WebSocket route', async () => {
    g.WebSocket = NodeWebSocket;
    const { final, updates } = await follow('ws', noWs.base);
    expect(final).toMatchObject({ state: 'SUCCESS', result: 'done' });
    expect(states(updates)).toContain('STARTED');
  });

  it('rejects with unauthorized or forbidden when authorize refuses, on every transport, instead of retrying', async () => {
    g.WebSocket = NodeWebSocket;
    const signInFirst = await tasks.steps.applyAsync([1, 10]);
    const notYours = await tasks.steps.applyAsync([1, 10]);
    const guarded = await startAdapter(adapter, app, [''], {
      authorize: (_request, taskId) => {
        if (taskId === signInFirst.id) throw Object.assign(new Error('sign in first'), { status: 401 });
        return false;
      },
    });
    try {
      for (const transport of ['ws', 'sse', 'poll'] as const) {
        const refused = watchTask(signInFirst.id, { transport, baseUrl: guarded.base, onUpdate: () => {} });
        await expect(refused.done, transport).rejects.toMatchObject({ code: 'unauthorized', message: 'sign in first' });
        const forbidden = watchTask(notYours.id, { transport, baseUrl: guarded.base, onUpdate: () => {} });
        await expect(forbidden.done, transport).rejects.toMatchObject({ code: 'forbidden' });
      }
    } finally {
      await guarded.close();
    }
  });

  it('rejects with not_found for an unknown task on every transport', async () => {
    g.WebSocket = NodeWebSocket;
    for (const transport of ['ws', 'sse', 'poll'] as const) {
      const watch = watchTask(randomUUID(), { transport, baseUrl: web.base, onUpdate: () => {} });
      await expect(watch.done, transport).rejects.toMatchObject({ code: 'not_found' });
    }
  });
});
