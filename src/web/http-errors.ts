import type { FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Every error body the plugin sends. */
export interface ErrorBody {
  error: 'bad_request' | 'not_found' | 'forbidden' | 'unavailable';
  message: string;
  /** The request field at fault, for bad_request. */
  field?: string;
}

export function sendError(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).header('cache-control', 'no-cache').send(body);
}

/** Answers a refused WebSocket upgrade with a plain HTTP response, then drops the socket. */
export function rejectUpgrade(socket: Duplex, status: number, body: ErrorBody): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const json = JSON.stringify(body);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}

export const brokerUnavailable: ErrorBody = { error: 'unavailable', message: 'the task broker is unavailable; try again' };

export function notFound(id: string): ErrorBody {
  return { error: 'not_found', message: `no task with id "${id}" (unknown or expired)` };
}
