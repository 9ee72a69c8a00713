import { ConfigError } from '../../core/errors.js';
import type { HttpRoute, WsRoute } from '../core/route-table.js';
import type { FeedContext, FeedRoutesOptions } from './feed-context.js';
import { feedPollRoute } from './feed-poll-route.js';
import { feedSseRoute } from './feed-sse-route.js';
import { feedWsRoute } from './feed-ws-route.js';

/** The feed routes of one mount, or none when `feeds` is not configured. */
export function feedRoutes(
  options: FeedRoutesOptions | undefined,
  context: Omit<FeedContext, 'authorize'>,
): { http: HttpRoute[]; ws: WsRoute[] } {
  if (options === undefined) return { http: [], ws: [] };
  if (typeof options?.authorize !== 'function') {
    throw new ConfigError('feeds needs { authorize(request, tag) }: who may follow which tag');
  }
  const full: FeedContext = { ...context, authorize: options.authorize };
  return { http: [feedPollRoute(full), feedSseRoute(full)], ws: [feedWsRoute(full)] };
}
