import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_POINTS } from '../../app/channels/live-chart-route.js';
import { loadConfig } from '../../app/config.js';
import { CONTENT_SECURITY_POLICY } from '../../app/security-headers.js';
import { createDemoApp, type DemoApp } from '../../app/tasks.js';
import { buildWebServer } from '../../app/web.js';
import { connectChannel } from '../support/channel-client.js';
import { delay } from '../support/wait.js';

// The chat pages, the live chart page and their sockets, in the web process alone (memory broker and layer).
const INTERVAL_MS = 20;
let server: FastifyInstance;
let demo: DemoApp;
let base: string;
let wsBase: string;

beforeAll(async () => {
  const config = loadConfig({ ERRAND_BROKER: 'memory://', CHART_INTERVAL_MS: String(INTERVAL_MS) });
  demo = createDemoApp({ broker: 'memory://', demoApiUrl: config.demoApiUrl, logger: false });
  server = await buildWebServer({ config, demo });
  base = await server.listen({ host: '127.0.0.1', port: 0 });
  wsBase = base.replace('http:', 'ws:');
}, 30_000);

afterAll(async () => {
  await server.close();
  await demo.app.close();
});

const get = (url: string) => server.inject({ method: 'GET', url, headers: { host: '127.0.0.1' } });

describe('pages', () => {
  it('links the chat and the live chart from the index page', async () => {
    const page = (await get('/')).body;
    expect(page).toContain('href="/chat/"');
    expect(page).toContain('href="/two/"');
  });

  it('picks a room and a name on /chat/, then redirects to the room', async () => {
    const index = await get('/chat/');
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('name="room"');
    const go = await get('/chat/?room=lobby&username=Ada%20L');
    expect(go.statusCode).toBe(303);
    expect(go.headers.location).toBe('/chat/lobby/?username=Ada%20L');
    expect((await get('/chat/?room=no%20spaces&username=a')).statusCode).toBe(400);
    expect((await get('/chat/?room=lobby&username=')).statusCode).toBe(400);
  });

  it('serves a room page that escapes the name and loads only same-origin script', async () => {
    const room = await get('/chat/lobby/?username=%3Cimg%20src%3Dx%3E');
    expect(room.statusCode).toBe(200);
    expect(room.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(room.body).toContain('data-room="lobby"');
    expect(room.body).toContain('data-username="&lt;img src=x&gt;"');
    expect(room.body).not.toContain('<img src=x>');
    expect(room.body).toContain('<script type="module" src="/static/live.js"></script>');
    expect(room.body).not.toMatch(/<script>|<script type="module">/);
    expect((await get('/chat/bad-name!/?username=a')).statusCode).toBe(404);
    expect((await get('/chat/lobby/')).statusCode).toBe(303);
  });

  it('serves /two/ with a canvas and the bundled Chart.js (no CDN)', async () => {
    const page = await get('/two/');
    expect(page.body).toContain('id="live-chart"');
    expect(page.body).not.toMatch(/https?:\/\/(?!127)/);
    const script = await get('/static/live.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('text/javascript');
    expect(script.body.length).toBeGreaterThan(50_000); // Chart.js is in it
  });
});

describe('sockets', () => {
  it('carries { message, username } to every member of a room', async () => {
    const ada = await connectChannel(`${wsBase}/ws/chat/lobby/`, { origin: base });
    const bob = await connectChannel(`${wsBase}/ws/chat/lobby/`, { origin: base });
    ada.sendJson({ message: 'hello', username: 'ada' });
    expect(await bob.received(1)).toEqual([{ message: 'hello', username: 'ada' }]);
    expect(await ada.received(1)).toEqual([{ message: 'hello', username: 'ada' }]);
    ada.ws.close();
    bob.ws.close();
  });

  it(`sends the live chart a point every interval, ${CHART_POINTS} of them, then stops`, async () => {
    const started = Date.now();
    const chart = await connectChannel(`${wsBase}/ws/two_url/`, { origin: base });
    const points = await chart.received(CHART_POINTS, 20_000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual((CHART_POINTS - 1) * INTERVAL_MS * 0.9);
    for (const point of points) {
      expect(point).toEqual({ data: expect.any(Number) });
      const { data } = point as { data: number };
      expect(Number.isInteger(data) && data >= 0 && data <= 100).toBe(true);
    }
    await delay(INTERVAL_MS * 5);
    expect(chart.messages).toHaveLength(CHART_POINTS);
    chart.ws.close();
  }, 30_000);
});
