import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ConfigError, createApp, type Errand } from '../../src/index.js';
import { errandWeb } from '../../src/web/index.js';
import { defineWebTasks } from '../fixtures/web/tasks.js';
import { waitFor } from '../support/wait.js';
import { collectWs, readSse, startWeb, type WebServer } from './web-support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Parameters<typeof startWeb>[2] = {}, prefixes = ['']) {
  const app = createApp({ broker: 'memory://', logger: false });
  const tasks = defineWebTasks(app);
  cleanups.push(() => app.close());
  const web = await startWeb(app, prefixes, options);
  cleanups.push(() => web.fastify.close());
  return { app, tasks, web };
}

const pending = (tasks: ReturnType<typeof defineWebTasks>) => tasks.add.applyAsync([1, 1], { countdown: 60_000 });

/** Opens a socket and resolves with its first message, keeping it open. */
function firstMessage(url: string, origin?: string): Promise<{ ws: WebSocket; first: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.once('message', (data) => resolve({ ws, first: JSON.parse(String(data)) }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('errandWeb plugin', () => {
  it('accepts the same host, listed origins and clients without Origin; refuses others and "null"', async () => {
    const { tasks, web } = await setup({ allowedOrigins: ['https://app.example/'] });
    const r = await pending(tasks);
    const url = `${web.wsBase}/ws/task_status/${r.id}/`;
    for (const origin of [`http://${web.host}`, 'https://app.example', undefined]) {
      const { ws, first } = await firstMessage(url, origin);
      expect(first).toMatchObject({ state: 'PENDING' });
      ws.close();
    }
    for (const origin of ['https://evil.example', 'null', `http://${web.host}.evil.example`, 'http://app.example']) {
      await expect(firstMessage(url, origin), origin).rejects.toThrow('HTTP 403');
    }
  });

  it('sends SSE heartbeat comments while nothing changes', async () => {
    const { tasks, web } = await setup({ heartbeatMs: 40 });
    const r = await pending(tasks);
    setTimeout(() => void r.revoke(), 250);
    const { events, comments } = await readSse(`${web.base}/tasks/${r.id}/events`);
    expect(events.map((e) => JSON.parse(e.data).state)).toEqual(['PENDING', 'REVOKED']);
    expect(comments.filter((c) => c === 'heartbeat').length).toBeGreaterThanOrEqual(2);
  });

  it('ends open SSE streams and WebSockets when the server closes, and detaches its upgrade listener', async () => {
    const app = createApp({ broker: 'memory://', logger: false });
    cleanups.push(() => app.close());
    const tasks = defineWebTasks(app);
    const web: WebServer = await startWeb(app, ['', '/users']);
    expect(web.fastify.server.listenerCount('upgrade')).toBe(1);
    const r = await pending(tasks);
    let received = 0;
    const sse = readSse(`${web.base}/users/tasks/${r.id}/events`, {}, () => received++);
    const socket = collectWs(`${web.wsBase}/ws/task_status/${r.id}/`, undefined, () => received++);
    await waitFor(() => received === 2, 5000, 'both streams to start');
    const started = Date.now();
    await web.fastify.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await sse).events).toHaveLength(1);
    expect((await socket).code).toBe(1001);
    expect(web.fastify.server.listenerCount('upgrade')).toBe(0);
  });

  it('refuses bad options with ConfigError', async () => {
    const app: Errand = createApp({ broker: 'memory://', logger: false });
    cleanups.push(() => app.close());
    for (const options of [
      { app, prefix: 'users' },
      { app, prefix: '/users/' },
      { app, allowedOrigins: ['not a url'] },
      { app: undefined as unknown as Errand },
    ]) {
      const fastify = Fastify();
      await expect(fastify.register(errandWeb, options).ready()).rejects.toBeInstanceOf(ConfigError);
      await fastify.close();
    }
  });

  it('registers its routes on the parent instance (fastify-plugin semantics)', async () => {
    const app = createApp({ broker: 'memory://', logger: false });
    cleanups.push(() => app.close());
    const fastify = Fastify();
    cleanups.push(() => fastify.close());
    await fastify.register(async (child) => {
      await child.register(errandWeb, { app, prefix: '/api' });
    });
    await fastify.ready();
    expect(fastify.hasRoute({ method: 'GET', url: '/api/task_status/' })).toBe(true);
    expect(fastify.hasRoute({ method: 'GET', url: '/api/tasks/:id/events' })).toBe(true);
  });
});
