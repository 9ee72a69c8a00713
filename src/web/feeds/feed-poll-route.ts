import type { TagFeedPage } from '../../core/backend.js';
import type { HttpRoute } from '../core/route-table.js';
import { errorReply, jsonReply, refusalReply } from '../core/web-response.js';
import { brokerUnavailable } from '../http-errors.js';
import { feedMessage, type FeedContext } from './feed-context.js';
import { checkFeedAccess, parseCursor, parseLimit, parseTag } from './feed-params.js';

/**
 * GET {prefix}/feeds/:tag/?after=CURSOR&limit=N — the tag feed by polling:
 * `{ entries, cursor, more }`, each task once at its latest state; pass
 * `cursor` back as `after` to get only what changed since.
 */
export function feedPollRoute(context: FeedContext): HttpRoute {
  return {
    methods: ['GET', 'HEAD'],
    path: '/feeds/:tag/',
    optionalTrailingSlash: true,
    async handle(request, params) {
      const tag = parseTag(params.tag);
      if (!tag.ok) return errorReply(400, tag.error);
      const after = parseCursor(request.query.after, 'after');
      if (!after.ok) return errorReply(400, after.error);
      const limit = parseLimit(request.query.limit);
      if (!limit.ok) return errorReply(400, limit.error);
      const refusal = await checkFeedAccess(context, request, tag.value);
      if (refusal) return refusalReply(refusal);
      let page: TagFeedPage;
      try {
        page = await context.app.tagFeed(tag.value, { after: after.value, limit: limit.value });
      } catch (error) {
        context.log(error, 'errand: reading a tag feed failed');
        return errorReply(503, brokerUnavailable);
      }
      const body = {
        entries: page.entries.map((entry) => feedMessage(context, entry, request)),
        cursor: page.cursor,
        more: page.more,
      };
      return jsonReply(200, body, { 'cache-control': 'no-cache, private' });
    },
  };
}
