import type { Errand } from '../core/errand.js';
import type { Logger } from '../core/logger.js';
import type { Authorize, Expose } from './core/access.js';
import type { ChannelRoutesOptions } from './channels/channel-route.js';
import type { DashboardOptions } from './dashboard/options.js';
import type { FeedRoutesOptions } from './feeds/feed-context.js';

/** The options every adapter takes (errandWeb, errandExpress, errandHono, createErrandFetch, createErrandHandler, attachErrandUpgrades). */
export interface ErrandWebOptions {
  app: Errand;
  /** Path prefix of every route, e.g. '/users' (default ''). */
  prefix?: string;
  /** Origins besides the request's own host that may open WebSockets, e.g. ['https://example.com']. */
  allowedOrigins?: string[];
  /** SSE heartbeat comment and WebSocket ping interval (default 25000 ms). */
  heartbeatMs?: number;
  /**
   * Who may watch a task: called by poll, SSE and WebSocket alike before anything
   * is read or sent (for a WebSocket, before the handshake). Default: anyone who
   * knows the id. See docs/status.md, "Who can watch a task".
   */
  authorize?: Authorize;
  /**
   * What a browser may see besides state and version: a list of fields, or a
   * function choosing them per task version and request. Default: error,
   * errorType and progress — not the result.
   */
  expose?: Expose;
  /** Shorthand for the default fields plus the result (the task's return value). */
  exposeResult?: boolean;
  /** Where broker errors and authorize failures are logged (default: Fastify's logger for errandWeb, the app's logger elsewhere). */
  logger?: Pick<Logger, 'error'>;
  /** WebSocket routes on a channel layer (chat rooms, live feeds), beside the status routes. See docs/channels.md. */
  channels?: ChannelRoutesOptions;
  /**
   * Tag feeds: every task enqueued with a tag (ApplyOptions.tags, e.g.
   * 'user:42') over poll, SSE and WebSocket. Mounted only with an
   * `authorize(request, tag)`; see docs/status.md, "Feeds per user".
   */
  feeds?: FeedRoutesOptions;
  /**
   * The live operations dashboard under {prefix}/dashboard/ (queues, workers,
   * tasks, dead letters, schedules, actions), over app.admin. Without
   * authorize, token or basicAuth it answers loopback clients only. See
   * docs/dashboard.md.
   */
  dashboard?: DashboardOptions;
}
