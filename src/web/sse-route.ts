import type { FastifyInstance } from 'fastify';
import { TaskNotFoundError } from '../core/errors.js';
import type { StatusHub } from '../status/status-hub.js';
import type { StatusSubscription } from '../status/status-subscription.js';
import { brokerUnavailable, notFound, sendError } from './http-errors.js';
import type { Sessions } from './sessions.js';
import { streamStatus } from './sse-stream.js';
import { parseLastEventId, parseTaskId } from './task-id.js';

export interface SseRouteOptions {
  hub: StatusHub;
  prefix: string;
  heartbeatMs: number;
  sessions: Sessions;
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no', // proxies such as nginx must not buffer the stream
};

/** Milliseconds EventSource waits before it reconnects. */
const RETRY_MS = 2000;

/**
 * GET {prefix}/tasks/:id/events — Server-Sent Events. Every event is the
 * default `message` type (one `onmessage` handler sees them all; the state is
 * in the data), `id:` is the version and `data:` the status JSON: the current
 * state first, then each later one, and the stream ends after the terminal
 * one. `Last-Event-ID` (or `?lastEventId=`) skips the versions the client has.
 */
export function registerSseRoute(fastify: FastifyInstance, options: SseRouteOptions): void {
  fastify.get(`${options.prefix}/tasks/:id/events`, async (request, reply) => {
    const parsed = parseTaskId((request.params as { id?: string }).id);
    if (!parsed.ok) return sendError(reply, 400, parsed.error);
    const query = request.query as { lastEventId?: unknown };
    const afterVersion = parseLastEventId(request.headers['last-event-id'] ?? query.lastEventId);
    let subscription: StatusSubscription;
    try {
      subscription = await options.hub.subscribe(parsed.value, { afterVersion });
    } catch (error) {
      if (error instanceof TaskNotFoundError) return sendError(reply, 404, notFound(parsed.value));
      request.log.error({ err: error }, 'errand: subscribing to task status failed');
      return sendError(reply, 503, brokerUnavailable);
    }
    // The client already has the terminal event: 204 is what tells EventSource to stop reconnecting.
    if (subscription.endReason === 'terminal') return reply.code(204).header('cache-control', 'no-cache').send();
    if (request.method === 'HEAD') {
      // The stream's headers and no stream: Node writes no body for HEAD, so a hijacked stream
      // would never even flush its headers and the request would hang until the task ends.
      subscription.close();
      return reply.code(200).headers(STREAM_HEADERS).send();
    }

    reply.hijack();
    const res = reply.raw;
    // Keep headers other hooks set on the reply (cookies, CORS): hijacking skips fastify's sending.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) res.setHeader(name, value);
    }
    res.writeHead(200, { ...STREAM_HEADERS, connection: 'keep-alive' });
    res.write(`retry: ${RETRY_MS}\n\n`);
    void streamStatus(res, subscription, options);
  });
}
