import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type Errand, type Worker } from '../../src/index.js';
import type { DashboardOptions } from '../../src/web/dashboard/index.js';
import { createErrandHandler, type ErrandHandler } from '../../src/web/node/index.js';

export interface Dashboard {
  app: Errand;
  /** http://127.0.0.1:<port>/errand/dashboard */
  base: string;
  origin: string;
  server: Server;
  handler: ErrandHandler;
  worker(options?: Parameters<Errand['worker']>[0]): Promise<Worker>;
  close(): Promise<void>;
}

/** An app on `broker` with the dashboard mounted under /errand by the node:http adapter, on 127.0.0.1. */
export async function startDashboard(
  dashboard: DashboardOptions = {},
  broker = 'memory://',
  setup?: (app: Errand) => void,
  payloadLimitBytes?: number,
): Promise<Dashboard> {
  const app = createApp({ broker, logger: false, ...(payloadLimitBytes ? { payloadLimitBytes } : {}) });
  setup?.(app);
  const handler = createErrandHandler({ app, prefix: '/errand', dashboard: { refreshMs: 100, ...dashboard } });
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const workers: Worker[] = [];
  return {
    app,
    origin,
    base: `${origin}/errand/dashboard`,
    server,
    handler,
    async worker(options = {}) {
      const w = app.worker({
        handleSignals: false,
        claimWaitMs: 50,
        concurrency: 4,
        report: { flushMs: 50, heartbeatMs: 100 },
        ...options,
      });
      await w.start();
      workers.push(w);
      return w;
    },
    async close() {
      for (const w of workers) await w.stop({ graceMs: 0 });
      await handler.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
    },
  };
}

/** The CSRF cookie and token a page load hands out. */
export async function session(base: string, headers: Record<string, string> = {}): Promise<{ cookie: string; token: string }> {
  const page = await fetch(`${base}/`, { headers });
  const html = await page.text();
  const set = page.headers.get('set-cookie') ?? '';
  const token = /data-csrf="([0-9a-f]{64})"/.exec(html)?.[1];
  if (!token) throw new Error(`no CSRF token in the page (${page.status}): ${html.slice(0, 200)}`);
  return { cookie: set.split(';')[0]!, token };
}

/** A POST to an action, as the page makes it. */
export function postAction(
  base: string,
  action: string,
  body: unknown,
  auth: { cookie: string; token: string },
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}/api/actions/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: auth.cookie, 'x-csrf-token': auth.token, ...headers },
    body: JSON.stringify(body),
  });
}

/** A promise with its resolve, for handlers the test releases. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
