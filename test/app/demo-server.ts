import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../app/config.js';
import { createDemoApp, type DemoApp, type DemoAppOptions } from '../../app/tasks.js';
import { buildWebServer } from '../../app/web.js';
import type { Worker, WorkerOptions } from '../../src/index.js';

export interface DemoServer {
  base: string;
  demo: DemoApp;
  server: FastifyInstance;
  worker: Worker;
  close(): Promise<void>;
}

/**
 * The reference app's web server and a worker in this process, on the
 * memory broker, listening on 127.0.0.1: what the page tests drive.
 */
export async function startDemoServer(
  options: { env?: Record<string, string>; demo?: Partial<DemoAppOptions>; worker?: WorkerOptions } = {},
): Promise<DemoServer> {
  const config = loadConfig({ ERRAND_BROKER: 'memory://', PORT: '0', ...options.env });
  const demo = createDemoApp({ broker: 'memory://', demoApiUrl: config.demoApiUrl, logger: false, ...options.demo });
  const worker = demo.app.worker({ handleSignals: false, claimWaitMs: 50, ...options.worker });
  await worker.start();
  const server = await buildWebServer({ config, demo });
  const base = await server.listen({ host: '127.0.0.1', port: 0 });
  return {
    base,
    demo,
    server,
    worker,
    async close() {
      await server.close();
      await worker.stop();
      await demo.app.close();
    },
  };
}
