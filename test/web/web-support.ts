import Fastify, { type FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { Errand } from '../../src/index.js';
import { errandWeb, type ErrandWebOptions, type StatusMessage } from '../../src/web/index.js';

export interface WebServer {
  fastify: FastifyInstance;
  /** http://127.0.0.1:port */
  base: string;
  /** ws://127.0.0.1:port */
  wsBase: string;
  host: string;
}

/** A Fastify server with errandWeb registered once per prefix, listening on 127.0.0.1:0. */
export async function startWeb(
  app: Errand,
  prefixes: string[] = [''],
  options: Omit<ErrandWebOptions, 'app' | 'prefix'> = {},
): Promise<WebServer> {
  // undici may leave a fresh keep-alive socket with no request yet, which server.close() would wait out.
  const fastify = Fastify({ logger: false, forceCloseConnections: true });
  for (const prefix of prefixes) await fastify.register(errandWeb, { app, prefix, ...options });
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const address = fastify.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const host = `127.0.0.1:${address.port}`;
  return { fastify, base: `http://${host}`, wsBase: `ws://${host}`, host };
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
): Promise<{ status: number; contentType: string | null; events: SseEvent[]; comments: string[] }> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    return { status: res.status, contentType: res.headers.get('content-type'), events, comments };
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
): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
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
