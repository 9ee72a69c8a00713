import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { UpgradeRefused } from '../web/web-support.js';
import { waitFor } from './wait.js';

/** A ws client that records what a channel route sends it and how it closed. */
export interface ChannelClient {
  ws: WebSocket;
  messages: unknown[];
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Waits until `count` messages arrived; returns them all. */
  received(count: number, timeoutMs?: number): Promise<unknown[]>;
  sendJson(value: unknown): void;
}

/** Opens a socket; rejects with UpgradeRefused when the server answers the handshake with HTTP. */
export function connectChannel(
  url: string,
  options: { origin?: string; headers?: Record<string, string> } = {},
): Promise<ChannelClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: options.headers ?? {}, ...(options.origin ? { origin: options.origin } : {}) });
    const messages: unknown[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      ws.on('close', (code, reason) => done({ code, reason: String(reason) })),
    );
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
    });
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        ws,
        messages,
        closed,
        received: async (count, timeoutMs = 5000) => {
          await waitFor(() => messages.length >= count, timeoutMs, `${count} messages (have ${messages.length})`);
          return messages;
        },
        sendJson: (value) => ws.send(JSON.stringify(value)),
      }),
    );
  });
}
