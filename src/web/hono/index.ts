// errand/hono: the Hono adapter (and the Fetch API handler for Next.js, Bun and Deno). Needs no hono import.
import { WebCore } from '../core/web-core.js';
import { createErrandFetch, fetchAdapter, type ErrandFetch } from '../fetch/fetch-handler.js';
import type { AttachableServer } from '../node/upgrade-dispatcher.js';
import type { ErrandWebOptions } from '../options.js';

export { createErrandFetch, type ErrandFetch };
export * from '../public-api.js';

/** The part of Hono's Context the middleware reads (so errand needs no hono import, types included). */
export interface HonoContextLike {
  req: { raw: Request };
}

/** Hono middleware serving errand's poll and SSE routes, plus the WebSocket attach for @hono/node-server. */
export interface ErrandHonoMiddleware {
  (c: HonoContextLike, next: () => Promise<void>): Promise<Response | void>;
  attach(server: AttachableServer): void;
  close(): Promise<void>;
}

/**
 * The Hono adapter: middleware that answers errand's routes and passes every
 * other request on. `authorize` gets Hono's Context as `request.native` for
 * poll and SSE (c.get('user') of earlier middleware), the IncomingMessage for
 * the WebSocket upgrade.
 *
 *   const web = new Hono();
 *   const errand = errandHono({ app });
 *   web.use(errand);
 *   const server = serve({ fetch: web.fetch, port: 8010 });   // @hono/node-server
 *   errand.attach(server);                                    // the WebSocket route, on node:http
 *
 * Hono's own WebSocket helpers differ per runtime, so the WebSocket route is
 * served on the node:http server; on Bun, Deno or a Next.js route handler the
 * browser client uses SSE instead.
 */
export function errandHono(options: ErrandWebOptions): ErrandHonoMiddleware {
  const adapter = fetchAdapter(new WebCore(options, 'errandHono'));
  const middleware = (async (c, next) => {
    const response = await adapter.handle(c.req.raw, c);
    if (response) return response;
    await next();
  }) as ErrandHonoMiddleware;
  middleware.attach = adapter.attach;
  middleware.close = adapter.close;
  return middleware;
}
