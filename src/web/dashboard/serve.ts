import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Errand } from '../../core/errand.js';
import { ConfigError } from '../../core/errors.js';
import { AuthorizationError } from '../core/access.js';
import { createErrandHandler } from '../node/node-handler.js';
import { isLoopbackHost } from './loopback.js';
import type { WebRequest } from '../core/web-request.js';
import { decideAccess } from './access.js';
import { checkDashboardOptions, hasCredentials, type DashboardAuth, type DashboardOptions } from './options.js';

export interface ServeDashboardOptions extends Omit<DashboardOptions, keyof DashboardAuth> {
  app: Errand;
  /** Default '127.0.0.1'. Any other than a loopback address needs `auth`. */
  host?: string;
  /** Default 5555; 0 picks a free port. */
  port?: number;
  /** Path prefix (default ''): the dashboard is at {prefix}/dashboard/. */
  prefix?: string;
  auth?: DashboardAuth;
}

export interface DashboardServer {
  /** The dashboard's URL, e.g. http://127.0.0.1:5555/dashboard/. */
  url: string;
  server: Server;
  /** Ends the live streams and closes the server (not the app). */
  close(): Promise<void>;
}

/**
 * The dashboard on its own node:http server (what `errand dashboard` runs).
 * Refuses, with a ConfigError and before listening, to bind a non-loopback
 * host without credentials.
 */
export async function serveDashboard(options: ServeDashboardOptions): Promise<DashboardServer> {
  const { app, host = '127.0.0.1', port = 5555, prefix = '', auth, ...rest } = options;
  if (!isLoopbackHost(host) && !hasCredentials(auth)) {
    throw new ConfigError(
      `serveDashboard: host ${host} is reachable from other machines; give auth ({ token }, { basicAuth } or { authorize }) or use 127.0.0.1`,
    );
  }
  const dashboard: DashboardOptions = { ...rest, ...auth };
  const checked = checkDashboardOptions(dashboard);
  const log = (error: unknown, message: string): void => app.logger?.error({ err: error }, message);
  // The status routes come with the handler: guard them as the dashboard is guarded.
  const authorize = async (request: WebRequest): Promise<boolean> => {
    const decision = await decideAccess(checked, request, log);
    if (!decision.ok) throw new AuthorizationError(decision.refusal.status === 401 ? 401 : 403, decision.refusal.body.message);
    return true;
  };
  const handler = createErrandHandler({ app, prefix, dashboard, authorize });
  const home = `${prefix}/dashboard/`;
  const server = createServer((req, res) => {
    handler(req, res, () => {
      if (req.url === '/' || req.url === prefix) res.writeHead(303, { location: home }).end();
      else
        res
          .writeHead(404, { 'content-type': 'application/json; charset=utf-8' })
          .end('{"error":"not_found","message":"not a dashboard path"}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}${home}`,
    server,
    async close() {
      await handler.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
