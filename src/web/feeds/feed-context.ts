import type { Errand } from '../../core/errand.js';
import type { TagFeedEntry } from '../../core/backend.js';
import type { AccessPolicy } from '../core/access.js';
import type { WebRequest } from '../core/web-request.js';
import type { Sessions } from '../sessions.js';

/**
 * Decides whether `request` may follow the feed of `tag` (every task
 * enqueued with that tag): called by poll, SSE and WebSocket alike before
 * anything is read (for a WebSocket, before the handshake). Return false
 * for 403, or throw an error with a `status` (401, 403, 404) to choose.
 */
export type AuthorizeFeed = (request: WebRequest, tag: string) => boolean | Promise<boolean>;

/** errandWeb({ feeds }): the tag feed routes, mounted only when given (a feed shows many tasks: no default access). */
export interface FeedRoutesOptions {
  authorize: AuthorizeFeed;
}

/** What the feed routes of one mount share. */
export interface FeedContext {
  app: Errand;
  authorize: AuthorizeFeed;
  access: AccessPolicy;
  sessions: Sessions;
  heartbeatMs: number;
  allowedOrigins: ReadonlySet<string>;
  log(error: unknown, message: string): void;
}

/** One feed entry as a browser sees it: the cursor, the task's id and name, and its status message fields. */
export function feedMessage(context: FeedContext, entry: TagFeedEntry, request: WebRequest): Record<string, unknown> {
  return {
    cursor: entry.cursor,
    task_id: entry.info.id,
    name: entry.info.name,
    ...context.access.message(entry.info, request),
  };
}
