// The web process: serves the pages and enqueues tasks; the worker runs them.
import { loadConfig } from './config.js';
import { onShutdown } from './shutdown.js';
import { buildWebServer } from './web.js';

const config = loadConfig();
const server = await buildWebServer({
  config,
  logger: { level: process.env.LOG_LEVEL ?? 'warn' },
});
const address = await server.listen({ host: config.host, port: config.port });
// start.ts and the tests wait for this line.
process.stdout.write(`errand demo web listening on ${address}/ (broker ${config.broker})\n`);

onShutdown('web', () => server.close());
