import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrandMetrics } from './errand-metrics.js';

export interface MetricsServer {
  /** http://host:port/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * GET /metrics on a port of its own: for worker processes, which serve no
 * HTTP otherwise. Binds 127.0.0.1 by default; anything else answers 404.
 */
export async function serveMetrics(
  metrics: ErrandMetrics,
  options: { port?: number; host?: string } = {},
): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"only GET /metrics here"}');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal","message":"metrics failed"}'),
    );
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
