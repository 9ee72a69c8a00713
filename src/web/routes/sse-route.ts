import { TaskNotFoundError } from '../../core/errors.js';
import type { StatusSubscription } from '../../status/status-subscription.js';
import type { HttpRoute } from '../core/route-table.js';
import { errorReply, refusalReply } from '../core/web-response.js';
import { brokerUnavailable, notFound } from '../http-errors.js';
import { parseLastEventId, parseTaskId } from '../task-id.js';
import { streamStatus } from './sse-stream.js';
import type { StatusContext } from './status-context.js';

/** Milliseconds EventSource waits before it reconnects. */
const RETRY_MS = 2000;

/**
 * GET {prefix}/tasks/:id/events — Server-Sent Events. Every event is the
 * default `message` type (one `onmessage` handler sees them all; the state is
 * in the data), `id:` is the version and `data:` the status JSON: the current
 * state first, then each later one, and the stream ends after the terminal
 * one. `Last-Event-ID` (or `?lastEventId=`) skips the versions the client has.
 */
export function sseRoute(context: StatusContext): HttpRoute {
  return {
    methods: ['GET', 'HEAD'],
    path: '/tasks/:id/events',
    optionalTrailingSlash: true,
    async handle(request, params) {
      const parsed = parseTaskId(params.id);
      if (!parsed.ok) return errorReply(400, parsed.error);
      const refusal = await context.access.check(request, parsed.value);
      if (refusal) return refusalReply(refusal);
      const afterVersion = parseLastEventId(request.headers['last-event-id'] ?? request.query.lastEventId);
      let subscription: StatusSubscription;
      try {
        subscription = await context.hub.subscribe(parsed.value, { afterVersion });
      } catch (error) {
        if (error instanceof TaskNotFoundError) return errorReply(404, notFound(parsed.value));
        context.log(error, 'errand: subscribing to task status failed');
        return errorReply(503, brokerUnavailable);
      }
      const headers = {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': context.access.cacheControl('no-cache, no-transform'),
        'x-accel-buffering': 'no', // proxies such as nginx must not buffer the stream
      };
      // The client already has the terminal event: 204 is what tells EventSource to stop reconnecting.
      if (subscription.endReason === 'terminal') return { status: 204, headers: { 'cache-control': headers['cache-control'] } };
      if (request.method === 'HEAD') {
        // The stream's headers and no stream (a HEAD answer has no body, so a stream would never end).
        subscription.close();
        return { status: 200, headers };
      }
      return {
        status: 200,
        headers,
        stream(writer) {
          writer.write(`retry: ${RETRY_MS}\n\n`);
          return streamStatus(writer, subscription, {
            heartbeatMs: context.heartbeatMs,
            sessions: context.sessions,
            encode: (event) => context.access.encode(event, request),
          });
        },
      };
    },
  };
}
