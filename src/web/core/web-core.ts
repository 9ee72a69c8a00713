import { ConfigError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { acquireHub, releaseHub } from '../hub-registry.js';
import { refusalReply, type WebResponse } from './web-response.js';
import type { ErrandWebOptions } from '../options.js';
import { normaliseOrigins } from '../origin-check.js';
import { pollRoute } from '../routes/poll-route.js';
import { sseRoute } from '../routes/sse-route.js';
import type { StatusContext } from '../routes/status-context.js';
import { wsRoute } from '../routes/ws-route.js';
import { Sessions } from '../sessions.js';
import { channelWsRoutes, type ChannelRouteContext } from '../channels/channel-ws-route.js';
import { feedRoutes } from '../feeds/index.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { AccessPolicy } from './access.js';
import { RouteTable, type HttpRoute, type Matched, type RouteParams, type WsRoute } from './route-table.js';
import type { WebRequest } from './web-request.js';
import type { WsAdmission } from './websocket.js';

/**
 * One mount of errand's routes (one prefix on one server, or one handler), in
 * no framework: its route table, its open sessions (SSE streams, WebSockets)
 * and its hold on the shared status hub. Adapters turn their framework's
 * request into a WebRequest, ask `handle`/`admit`, and write what comes back.
 *
 * States: open → ending (endSessions: streams and sockets closed; a session
 * that starts late is closed at once) → closed (the hub released).
 */
export class WebCore {
  readonly routes: RouteTable;
  readonly sessions = new Sessions();
  private readonly backend: ErrandWebOptions['app']['backend'];
  private released = false;
  private readonly log: (error: unknown, message: string) => void;

  constructor(options: ErrandWebOptions, adapter: string, fallbackLogger?: Pick<Logger, 'error'>) {
    const app = (options as Partial<ErrandWebOptions> | undefined)?.app;
    if (!app?.backend) throw new ConfigError(`${adapter} needs { app } (an errand app from createApp)`);
    const prefix = checkPrefix(options.prefix ?? '', adapter);
    const heartbeatMs = options.heartbeatMs ?? 25_000;
    if (!(heartbeatMs > 0)) throw new ConfigError(`${adapter}: heartbeatMs must be > 0`);
    let access: AccessPolicy;
    const logger = options.logger ?? fallbackLogger ?? app.logger;
    const log = (error: unknown, message: string): void => logger?.error({ err: error }, message);
    this.log = log;
    try {
      access = new AccessPolicy(options, log);
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(`${adapter}: ${error.message}`);
      throw error;
    }
    const allowedOrigins = normaliseOrigins(options.allowedOrigins);
    // Checked before the hub is acquired, so a bad route leaks no hold on it.
    const channelRoutes = channelRoutesOf(options, { sessions: this.sessions, heartbeatMs, allowedOrigins, log }, adapter);
    const feeds = configured(adapter, () =>
      feedRoutes(options.feeds, { app, access, sessions: this.sessions, heartbeatMs, allowedOrigins, log }),
    );
    const dashboard = configured(adapter, () =>
      dashboardRoutes(options.dashboard, { app, prefix, sessions: this.sessions, heartbeatMs, log }),
    );
    this.backend = app.backend;
    const context: StatusContext = {
      app,
      hub: acquireHub(app.backend),
      access,
      sessions: this.sessions,
      heartbeatMs,
      allowedOrigins,
      log,
    };
    this.routes = new RouteTable(prefix).addHttp(pollRoute(context)).addHttp(sseRoute(context)).addWs(wsRoute(context));
    for (const route of channelRoutes) this.routes.addWs(route);
    for (const route of feeds.http) this.routes.addHttp(route);
    for (const route of feeds.ws) this.routes.addWs(route);
    for (const route of dashboard) this.routes.addHttp(route);
  }

  get prefix(): string {
    return this.routes.prefix;
  }

  /** Answers a request on one of the HTTP routes; undefined when it is not one of them (the adapter passes it on). */
  handle(request: WebRequest): Promise<WebResponse> | undefined {
    const matched = this.routes.matchHttp(request.method, request.path);
    if (!matched) return undefined;
    return this.run(matched.route, request, matched.params);
  }

  /** Runs an HTTP route (for adapters whose framework routes by itself); never rejects. */
  run(route: HttpRoute, request: WebRequest, params: RouteParams): Promise<WebResponse> {
    return route.handle(request, params).catch((error: unknown) => {
      // A bug of ours: a JSON 500 rather than a framework's HTML error page or a hung request.
      this.log(error, 'errand: a web route failed');
      return refusalReply({ status: 500, body: { error: 'internal', message: 'the request failed' } });
    });
  }

  /** The WebSocket route of `path`, if it is one of this mount's (matched before anything else is decided). */
  matchUpgrade(path: string): Matched<WsRoute> | undefined {
    return this.routes.matchWs(path);
  }

  /** Runs the route's checks before the handshake; never rejects. */
  async admit(matched: Matched<WsRoute>, request: WebRequest): Promise<WsAdmission> {
    try {
      return await matched.route.admit(request, matched.params);
    } catch (error) {
      this.log(error, 'errand: a WebSocket route failed');
      return { ok: false, refusal: { status: 500, body: { error: 'internal', message: 'the WebSocket upgrade failed' } } };
    }
  }

  /** Ends open SSE streams and WebSockets (1001), so a server's close() does not wait on them. */
  endSessions(): void {
    this.sessions.closeAll();
  }

  /** endSessions, then releases the status hub (the last user of a backend's hub closes it). Idempotent. */
  async close(): Promise<void> {
    this.endSessions();
    if (this.released) return;
    this.released = true;
    await releaseHub(this.backend);
  }
}

function channelRoutesOf(options: ErrandWebOptions, context: ChannelRouteContext, adapter: string): WsRoute[] {
  return configured(adapter, () => channelWsRoutes(options.channels, context));
}

/** Runs `build`, naming the adapter in its ConfigError. */
function configured<T>(adapter: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${adapter}: ${error.message}`);
    throw error;
  }
}

function checkPrefix(prefix: string, adapter: string): string {
  if (prefix === '' || /^\/[A-Za-z0-9._~\-/]*[^/]$/.test(prefix)) return prefix;
  throw new ConfigError(`${adapter}: prefix "${prefix}" must be '' or start with '/' and not end with '/'`);
}
