import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { toggleTrailingSlash, type HttpRoute, type RouteParams } from '../core/route-table.js';
import { WebCore } from '../core/web-core.js';
import { webRequest, flattenHeaders, type WebRequest } from '../core/web-request.js';
import { isStream, type WebResponse } from '../core/web-response.js';
import { nodeSseWriter } from '../node/node-sse-writer.js';
import { attachUpgrades } from '../node/upgrade-dispatcher.js';
import type { ErrandWebOptions } from '../options.js';

/**
 * Task status over HTTP for the browser: polling (GET {prefix}/task_status/),
 * Server-Sent Events (GET {prefix}/tasks/:id/events) and WebSocket
 * ({prefix}/ws/task_status/:id/). It applies to the instance it is registered
 * on (fastify-plugin semantics), so it can be registered several times with
 * different prefixes; all registrations in a process share one status hub.
 * Poll and SSE are Fastify routes (its hooks run); the WebSocket upgrade is
 * served beside Fastify's router, on fastify.server (see upgrade-dispatcher.ts),
 * so `authorize` is what guards all three alike.
 */
const plugin: FastifyPluginAsync<ErrandWebOptions> = async (fastify, options) => {
  const core = new WebCore(options, 'errandWeb', fastify.log);
  for (const route of core.routes.httpRoutes) registerRoute(fastify, core, route);
  const detach = attachUpgrades(fastify.server, core);
  // Open streams would keep server.close() waiting for ever: end them first.
  fastify.addHook('preClose', async () => core.endSessions());
  fastify.addHook('onClose', async () => {
    detach();
    await core.close();
  });
};

function registerRoute(fastify: FastifyInstance, core: WebCore, route: HttpRoute): void {
  const url = core.prefix + route.path;
  registerUrl(fastify, core, route, url);
  // Fastify told to ignore trailing slashes matches the twin already; declaring it would throw.
  if (route.optionalTrailingSlash && !ignoresTrailingSlash(fastify)) {
    registerUrl(fastify, core, route, toggleTrailingSlash(url));
  }
}

function ignoresTrailingSlash(fastify: FastifyInstance): boolean {
  const config = fastify.initialConfig as { ignoreTrailingSlash?: boolean; routerOptions?: { ignoreTrailingSlash?: boolean } };
  return config.ignoreTrailingSlash === true || config.routerOptions?.ignoreTrailingSlash === true;
}

function registerUrl(fastify: FastifyInstance, core: WebCore, route: HttpRoute, url: string): void {
  fastify.route({
    // Fastify answers HEAD from the GET route by itself (exposeHeadRoutes).
    method: route.methods.filter((method) => method !== 'HEAD'),
    url,
    handler: async (request, reply) => {
      const response = await core.run(route, fastifyWebRequest(request), request.params as RouteParams);
      return send(reply, response);
    },
  });
}

/** The neutral view of a Fastify request; `body` reads what Fastify parsed (by default: errand's GET routes have none). */
export function fastifyWebRequest(request: FastifyRequest, body = async () => encodeBody(request.body)): WebRequest {
  return webRequest({
    method: request.method,
    url: request.url,
    headers: flattenHeaders(request.headers),
    // request.ip honours the app's trustProxy setting
    remoteAddress: request.ip ?? request.socket?.remoteAddress,
    native: request,
    body,
  });
}

function send(reply: FastifyReply, response: WebResponse): FastifyReply {
  if (!isStream(response)) return reply.code(response.status).headers(response.headers).send(response.body);
  reply.hijack();
  const res = reply.raw;
  // Keep headers other hooks set on the reply (cookies, CORS): hijacking skips Fastify's sending.
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) res.setHeader(name, value);
  }
  if (!res.destroyed) res.writeHead(response.status, { ...response.headers, connection: 'keep-alive' });
  void response.stream(nodeSseWriter(res));
  return reply;
}

/** Fastify has parsed the body already (errand's GET routes have none). */
function encodeBody(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  return new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
}

// What fastify-plugin does: skip encapsulation, so the routes and hooks land on the parent instance.
const skipOverride = plugin as FastifyPluginAsync<ErrandWebOptions> & Record<symbol, unknown>;
skipOverride[Symbol.for('skip-override')] = true;
skipOverride[Symbol.for('fastify.display-name')] = 'errand-web';

export const errandWeb: FastifyPluginAsync<ErrandWebOptions> = plugin;
