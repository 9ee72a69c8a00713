import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, DEV_WEBHOOK_SECRET } from '../../app/config.js';
import { createDemoApp, type DemoApp } from '../../app/tasks.js';
import { buildWebServer } from '../../app/web.js';
import { standardWebhookHeaders } from '../../src/webhooks/index.js';

// The reference app's webhook routes over real HTTP, on the memory broker, with a provider that takes DELAY_MS.
const DELAY_MS = 800;
let server: FastifyInstance;
let demo: DemoApp;
let base: string;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    ERRAND_BROKER: 'memory://',
    DEMO_API_DELAY_MS: String(DELAY_MS),
    DEMO_API_FAILURE_RATE: '0',
  });
  demo = createDemoApp({ broker: 'memory://', demoApiUrl: config.demoApiUrl, logger: false });
  server = await buildWebServer({ config, demo });
  await server.listen({ host: '127.0.0.1', port });
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server.close();
  await demo.app.close();
});

let seq = 0;
function deliver(path: string, email: string, extra: Record<string, string> = {}): Promise<Response> {
  const body = JSON.stringify({ type: 'subscriber.created', data: { email, username: 'ada' } });
  const signed = standardWebhookHeaders({
    id: `msg_${++seq}`,
    timestamp: Math.floor(Date.now() / 1000),
    body,
    secret: DEV_WEBHOOK_SECRET,
  });
  return fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...signed, ...extra }, body });
}

describe.each(['', '/users'])('reference app webhooks under "%s/"', (prefix) => {
  it('webhook_test/ calls the slow provider inside the request', async () => {
    const started = performance.now();
    const response = await deliver(`${prefix}/webhook_test/`, 'inline@example.com');
    expect(await response.json()).toEqual({ processed: 'inline@example.com' });
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(DELAY_MS - 50);
  });

  it('webhook_test_async/ answers 202 {task_id} without waiting for the provider; a worker does the call', async () => {
    const started = performance.now();
    const response = await deliver(`${prefix}/webhook_test_async/`, 'async@example.com');
    const elapsed = performance.now() - started;
    expect(response.status).toBe(202);
    const { task_id } = (await response.json()) as { task_id: string };
    expect(elapsed).toBeLessThan(DELAY_MS / 2);
    expect(await demo.app.result(task_id).info()).toMatchObject({ name: 'webhooks.process_notification', state: 'PENDING' });
    const worker = demo.app.worker({ handleSignals: false, claimWaitMs: 100 });
    await worker.start();
    try {
      expect(await demo.app.result(task_id).get({ timeout: 10_000 })).toEqual({ processed: 'async@example.com' });
    } finally {
      await worker.stop();
    }
  });

  it('needs no CSRF token or same Origin, only the signature', async () => {
    const crossSite = { origin: 'https://evil.example', cookie: 'csrftoken=x' };
    expect((await deliver(`${prefix}/webhook_test_async/`, 'x@example.com', crossSite)).status).toBe(202);
    const unsigned = await fetch(`${base}${prefix}/webhook_test_async/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...crossSite },
      body: '{"type":"subscriber.created","data":{"email":"x@example.com","username":"x"}}',
    });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ error: 'missing_signature' });
    const forged = await deliver(`${prefix}/webhook_test/`, 'x@example.com', { 'webhook-signature': 'v1,AAAA' });
    expect(forged.status).toBe(401);
  });
});
