import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { WebSocket } from 'ws';
import type { Errand } from '../../src/index.js';
import { errandExpress } from '../../src/web/express/index.js';
import { errandHono } from '../../src/web/hono/index.js';
import { errandWeb, type ErrandWebOptions, type StatusMessage } from '../../src/web/index.js';
import { createErrandHandler } from '../../src/web/node/index.js';

/** Every adapter the shared suite runs against. 'hono' is served by @hono/node-server. */
export const ADAPTERS = ['fastify', 'express', 'hono', 'node'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

export type WebOptions = Omit<ErrandWebOptions, 'app' | 'prefix'>;

/** A Fastify server with errandWeb registered (what startWeb returns). */
export interface WebServer {
  fastify: FastifyInstance;
  /** http://127.0.0.1:port */
  base: string;
  /** ws://127.0.0.1:port */
  wsBase: string;
  host: string;
}

/** errandWeb registered once per prefix on a Fastify server listening on 127.0.0.1:0. */
export async function startWeb(app: Errand, prefixes: string[] = [''], options: WebOptions = {}): Promise<WebServer> {
  const web = await startAdapter('fastify', app, prefixes, options);
  return { fastify: web.fastify!, base: web.base, wsBase: web.wsBase, host: web.host };
}

/** A server running errand through one adapter. */
export interface AdapterServer {
  adapter: AdapterName;
  /** The node:http server underneath. */
  server: Server;
  /** Set for the Fastify adapter. */
  fastify?: FastifyInstance;
  /** http://127.0.0.1:port */
  base: string;
  /** ws://127.0.0.1:port */
  wsBase: string;
  host: string;
  /** Ends errand's streams, then closes the server. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Leave the WebSocket route out (what Next.js route handlers and Bun get). */
  noUpgrades?: boolean;
  /** Runs before errand is mounted, e.g. to add another WebSocket server first. */
  before?(server: Server, fastify?: FastifyInstance): void | Promise<void>;
  /** Runs after errand is mounted, before the server listens. */
  after?(server: Server, fastify?: FastifyInstance): void | Promise<void>;
}

/** A server with errand mounted once per prefix through `adapter`, listening on 127.0.0.1:0. */
export async function startAdapter(
  adapter: AdapterName,
  app: Errand,
  prefixes: string[] = [''],
  options: WebOptions = {},
  start: StartOptions = {},
): Promise<AdapterServer> {
  const mounts: Array<{ attach(server: Server): void; close(): Promise<void> }> = [];
  let server: Server;
  let fastify: FastifyInstance | undefined;
  if (adapter === 'fastify') {
    // undici may leave a fresh keep-alive socket with no request yet, which server.close() would wait out.
    fastify = Fastify({ logger: false, forceCloseConnections: true });
    await start.before?.(fastify.server, fastify);
    for (const prefix of prefixes) await fastify.register(errandWeb, { app, prefix, ...options });
    await start.after?.(fastify.server, fastify);
    await fastify.listen({ host: '127.0.0.1', port: 0 });
    server = fastify.server;
  } else if (adapter === 'express') {
    const web = express();
    for (const prefix of prefixes) {
      const router = errandExpress({ app, prefix, ...options });
      mounts.push(router);
      web.use(router);
    }
    web.use((_req, res) => void res.status(404).json({ error: 'not_found', message: 'express 404' }));
    server = createServer(web);
  } else if (adapter === 'hono') {
    const web = new Hono();
    for (const prefix of prefixes) {
      const middleware = errandHono({ app, prefix, ...options });
      mounts.push(middleware);
      web.use(middleware);
    }
    web.notFound((c) => c.json({ error: 'not_found', message: 'hono 404' }, 404));
    server = createAdaptorServer({ fetch: web.fetch }) as Server;
  } else {
    const handlers = prefixes.map((prefix) => createErrandHandler({ app, prefix, ...options }));
    mounts.push(...handlers);
    server = createServer(async (req, res) => {
      for (const handler of handlers) if (await handler.handle(req, res)) return;
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"node 404"}');
    });
  }
  if (!fastify) {
    await start.before?.(server);
    if (!start.noUpgrades) for (const mount of mounts) mount.attach(server);
    await start.after?.(server);
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }
  const port = (server.address() as AddressInfo).port;
  const host = `127.0.0.1:${port}`;
  return {
    adapter,
    server,
    fastify,
    base: `http://${host}`,
    wsBase: `ws://${host}`,
    host,
    async close() {
      if (fastify) return fastify.close();
      for (const mount of mounts) await mount.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A plain request (no streaming), answered in full. */
export async function request(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpAnswer> {
  const res = await fetch(url, { headers, method });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body) };
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Opens an SSE stream with fetch and collects its events until the server ends it. */
export async function readSse(
  url: string,
  headers: Record<string, string> = {},
  onEvent?: (event: SseEvent) => void,
  signal?: AbortSignal,
): Promise<{ status: number; contentType: string | null; events: SseEvent[]; comments: string[]; body?: string }> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  if (res.status !== 200 || !res.body) {
    const body = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), events, comments, body };
  }
  const decoder = new TextDecoder();
  let buffer = '';
  let current: Partial<SseEvent> & { data?: string } = {};
  const reader = res.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (current.data !== undefined) {
          const event = current as SseEvent;
          events.push(event);
          onEvent?.(event);
        }
        current = {};
      } else if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else {
        const colon = line.indexOf(':');
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') current.data = current.data === undefined ? value : `${current.data}\n${value}`;
        else if (field === 'id') current.id = value;
        else if (field === 'event') current.event = value;
      }
    }
  }
  return { status: res.status, contentType: res.headers.get('content-type'), events, comments };
}

export interface WsOutcome {
  messages: StatusMessage[];
  code: number;
  reason: string;
}

/** Connects a ws client and collects status messages until the server closes. */
export function collectWs(
  url: string,
  origin?: string,
  onMessage?: (m: StatusMessage, ws: WebSocket) => void,
  headers: Record<string, string> = {},
): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...(origin ? { origin } : {}) });
    const messages: StatusMessage[] = [];
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as StatusMessage;
      messages.push(message);
      onMessage?.(message, ws);
    });
    ws.on('close', (code, reason) => resolve({ messages, code, reason: String(reason) }));
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
    });
    ws.on('error', (error) => reject(error));
  });
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${status}: ${body}`);
  }
}

/** States of a message list, for compact assertions. */
export const states = (messages: Array<{ state: string }>): string[] => messages.map((m) => m.state);

export function expectIncreasing(versions: number[]): void {
  for (let i = 1; i < versions.length; i++) {
    if (!(versions[i]! > versions[i - 1]!)) throw new Error(`versions not increasing: ${versions.join(',')}`);
  }
}
