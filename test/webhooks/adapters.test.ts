import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';
import { webhookFetchHandler, webhookNodeHandler, webhookReceiver, type WebhookReceiver } from '../../src/webhooks/index.js';
import { newSecret, standardHeaders } from './receiver-suite.js';

// The same receiver behind node:http, Express 5 and Hono (@hono/node-server), on the memory broker.
let app: Errand;
let receiver: WebhookReceiver;
const secret = newSecret();
const servers: Server[] = [];
const bases: Record<string, string> = {};

async function listen(name: string, server: Server): Promise<void> {
  servers.push(server);
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  bases[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  app = createApp({ broker: 'memory://', logger: false });
  const task = app.task('hooks.adapter', (_ctx, email: string) => email);
  receiver = webhookReceiver({
    app,
    task,
    scheme: 'standard',
    secrets: secret,
    maxBodyBytes: 4096,
    toArgs: (event: { email: string }) => [event.email] as [string],
  });
  const node = webhookNodeHandler(receiver);
  await listen(
    'node',
    createServer((req, res) => node(req, res)),
  );
  const web = express();
  web.post('/hooks', webhookNodeHandler(receiver));
  // The mistake the handler names: a JSON parser that read the body first.
  web.post('/parsed', express.json(), webhookNodeHandler(receiver));
  await listen('express', createServer(web));
  const hono = new Hono();
  const fetchHandler = webhookFetchHandler(receiver);
  hono.post('/hooks', (c) => fetchHandler(c.req.raw));
  const honoServer = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  await listen('hono', honoServer);
});

afterAll(async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  await app.close();
});

/** A chunked POST (no Content-Length), so the adapter's own read limit is what stops it. */
function chunked(base: string, headers: Record<string, string>, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}/hooks`,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
    );
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe.each(['node', 'express', 'hono'])('webhook receiver on %s', (name) => {
  it('verifies the raw bytes and answers 202; a replay gets the same id', async () => {
    // Whitespace and key order a JSON parser would not keep: the signature covers the bytes as sent.
    const body = `{ "email":  "${name}@example.com" }\n`;
    const headers = { 'content-type': 'application/json; charset=utf-8', ...standardHeaders(secret, body, `msg_${name}`) };
    const first = await fetch(`${bases[name]}/hooks`, { method: 'POST', headers, body });
    expect(first.status).toBe(202);
    const { task_id } = (await first.json()) as { task_id: string };
    const again = await fetch(`${bases[name]}/hooks`, { method: 'POST', headers, body });
    expect(((await again.json()) as { task_id: string }).task_id).toBe(task_id);
    expect(await app.result(task_id).info()).toMatchObject({ state: 'PENDING' });
  });

  it('refuses a tampered body with 401 JSON', async () => {
    const body = `{"email":"${name}@example.com"}`;
    const response = await fetch(`${bases[name]}/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...standardHeaders(secret, body) },
      body: body.replace(name, 'eve'),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'signature_mismatch' });
  });

  it('stops reading a chunked body past maxBodyBytes with 413 JSON', async () => {
    const body = JSON.stringify({ email: 'x'.repeat(8000) });
    const response = await chunked(bases[name]!, standardHeaders(secret, body), [body.slice(0, 3000), body.slice(3000)]);
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'payload_too_large' });
  });
});

it('express: a body parser before the route is named, not reported as a bad signature', async () => {
  const body = '{"email":"a@example.com"}';
  const response = await fetch(`${bases.express}/parsed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...standardHeaders(secret, body) },
    body,
  });
  expect(response.status).toBe(500);
  expect(((await response.json()) as { message: string }).message).toMatch(/body parser/);
});
