// errand/express: the Express 5 adapter.
import { Router, type Request, type Response, type NextFunction } from 'express';
import { WebCore } from '../core/web-core.js';
import { NodeMount, nodeHandler } from '../node/node-handler.js';
import type { AttachableServer } from '../node/upgrade-dispatcher.js';
import type { ErrandWebOptions } from '../options.js';

export * from '../public-api.js';

/** An Express Router serving errand's poll and SSE routes, plus the WebSocket attach. */
export interface ErrandRouter extends Router {
  /** Serves errand's WebSocket route on the server `app.listen()` returned (only its own upgrades). */
  attach(server: AttachableServer): void;
  /** Ends open SSE streams and WebSockets (1001), detaches and releases the status hub; call it before server.close(). */
  close(): Promise<void>;
}

/**
 * The Express adapter. Mount it at the root and give the prefix in the
 * options, so the WebSocket route (which no Express middleware sees: upgrades
 * bypass the router) has the same prefix:
 *
 *   const errand = errandExpress({ app, prefix: '/users' });
 *   web.use(errand);
 *   const server = web.listen(8010);
 *   errand.attach(server);
 *
 * `authorize` receives the express Request as `request.native` for poll and
 * SSE (so req.session / req.user of earlier middleware can be read there), and
 * the IncomingMessage for the WebSocket upgrade.
 */
export function errandExpress(options: ErrandWebOptions): ErrandRouter {
  const mount = new NodeMount(new WebCore(options, 'errandExpress'));
  const handler = nodeHandler(mount);
  const router = Router() as ErrandRouter;
  router.use((req: Request, res: Response, next: NextFunction) => handler(req, res, next));
  router.attach = (server) => mount.attach(server);
  router.close = () => mount.close();
  return router;
}
