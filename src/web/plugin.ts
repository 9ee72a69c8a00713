import type { FastifyPluginAsync } from 'fastify';
import { ConfigError } from '../core/errors.js';
import type { Errand } from '../core/errand.js';
import { acquireHub, releaseHub } from './hub-registry.js';
import { normaliseOrigins } from './origin-check.js';
import { registerPollRoute } from './poll-route.js';
import { Sessions } from './sessions.js';
import { registerSseRoute } from './sse-route.js';
import { registerWsRoute } from './ws-route.js';

export interface ErrandWebOptions {
  app: Errand;
  /** Path prefix of every route, e.g. '/users' (default ''). */
  prefix?: string;
  /** Origins besides the request's own host that may open WebSockets, e.g. ['https://example.com']. */
  allowedOrigins?: string[];
  /** SSE heartbeat comment and WebSocket ping interval (default 25000 ms). */
  heartbeatMs?: number;
}

/**
 * Task status over HTTP for the browser: polling (GET {prefix}/task_status/),
 * Server-Sent Events (GET {prefix}/tasks/:id/events) and WebSocket
 * ({prefix}/ws/task_status/:id/). It applies to the instance it is registered
 * on (fastify-plugin semantics), so it can be registered several times with
 * different prefixes; all registrations in a process share one status hub.
 */
const plugin: FastifyPluginAsync<ErrandWebOptions> = async (fastify, options) => {
  const { app } = options;
  if (!app?.backend) throw new ConfigError('errandWeb needs { app } (an errand app from createApp)');
  const prefix = checkPrefix(options.prefix ?? '');
  const heartbeatMs = options.heartbeatMs ?? 25_000;
  if (!(heartbeatMs > 0)) throw new ConfigError('errandWeb: heartbeatMs must be > 0');
  const allowedOrigins = normaliseOrigins(options.allowedOrigins);
  const hub = acquireHub(app.backend);
  const sessions = new Sessions();

  registerPollRoute(fastify, app, prefix);
  registerSseRoute(fastify, { hub, prefix, heartbeatMs, sessions });
  registerWsRoute(fastify, { hub, prefix, heartbeatMs, allowedOrigins, sessions });

  // Open streams would keep server.close() waiting for ever: end them first.
  fastify.addHook('preClose', async () => sessions.closeAll());
  fastify.addHook('onClose', async () => releaseHub(app.backend));
};

function checkPrefix(prefix: string): string {
  if (prefix === '' || /^\/[A-Za-z0-9._~\-/]*[^/]$/.test(prefix)) return prefix;
  throw new ConfigError(`errandWeb: prefix "${prefix}" must be '' or start with '/' and not end with '/'`);
}

// What fastify-plugin does: skip encapsulation, so the routes and hooks land on the parent instance.
const skipOverride = plugin as FastifyPluginAsync<ErrandWebOptions> & Record<symbol, unknown>;
skipOverride[Symbol.for('skip-override')] = true;
skipOverride[Symbol.for('fastify.display-name')] = 'errand-web';

export const errandWeb: FastifyPluginAsync<ErrandWebOptions> = plugin;
