import type { HttpRoute } from '../core/route-table.js';
import { errorReply, refusalReply, type SseWriter } from '../core/web-response.js';
import { feedMessage, type FeedContext } from './feed-context.js';
import { checkFeedAccess, parseCursor, parseTag } from './feed-params.js';
import { FeedStream } from './feed-stream.js';

const RETRY_MS = 2000;

/**
 * GET {prefix}/feeds/:tag/events — the tag feed over Server-Sent Events:
 * `id:` is the cursor, `data:` the entry JSON; what the feed holds after
 * Last-Event-ID (or `?after=`) first, then every change. The stream stays
 * open (heartbeat comments) until the client leaves or the server closes.
 */
export function feedSseRoute(context: FeedContext): HttpRoute {
  return {
    methods: ['GET', 'HEAD'],
    path: '/feeds/:tag/events',
    optionalTrailingSlash: true,
    async handle(request, params) {
      const tag = parseTag(params.tag);
      if (!tag.ok) return errorReply(400, tag.error);
      const lastEventId = request.headers['last-event-id'];
      const after = parseCursor(lastEventId ?? request.query.after, lastEventId === undefined ? 'after' : 'last-event-id');
      if (!after.ok) return errorReply(400, after.error);
      const refusal = await checkFeedAccess(context, request, tag.value);
      if (refusal) return refusalReply(refusal);
      const headers = {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform, private',
        'x-accel-buffering': 'no',
      };
      if (request.method === 'HEAD') return { status: 200, headers };
      return {
        status: 200,
        headers,
        async stream(writer: SseWriter) {
          writer.write(`retry: ${RETRY_MS}\n\n`);
          const feed = new FeedStream(context.app, tag.value, after.value, context.log);
          const forget = context.sessions.add(() => feed.close());
          writer.onClose(() => feed.close());
          const heartbeat = setInterval(() => {
            if (!writer.closed) writer.write(': heartbeat\n\n');
          }, context.heartbeatMs);
          try {
            for await (const entry of feed) {
              if (writer.closed) break;
              writer.write(`id: ${entry.cursor}\ndata: ${JSON.stringify(feedMessage(context, entry, request))}\n\n`);
              // a slow client: the feed keeps only each task's latest change meanwhile
              if (writer.backedUp) await writer.drained();
            }
          } finally {
            clearInterval(heartbeat);
            forget();
            feed.close();
            writer.end();
          }
        },
      };
    },
  };
}
