import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Refusal } from '../http-errors.js';

/** How long a refused upgrade's socket may linger for the client to read the answer and hang up. */
const REFUSAL_LINGER_MS = 2000;

/**
 * Answers a refused WebSocket upgrade with a plain HTTP response, then drops the socket.
 * The client may have sent more after its request (frames, a body): that is read and
 * discarded, because closing a socket with unread input resets the connection, and a reset
 * can destroy the answer before the client reads it. The socket goes when the client hangs
 * up too (autoDestroy once both sides ended), or after REFUSAL_LINGER_MS at the latest.
 */
export function rejectUpgrade(socket: Duplex, refusal: Refusal): void {
  if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
  if (!socket.writable || socket.writableEnded) {
    socket.destroy();
    return;
  }
  const json = JSON.stringify(refusal.body);
  const extra = Object.entries(refusal.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.resume();
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Cache-Control: no-cache\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      extra +
      `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}
