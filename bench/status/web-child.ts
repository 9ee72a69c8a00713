// The status benchmarks' web process: a minimal Fastify server registering errandWeb
// (prefix ''), plus GET /bench/stats (memory, hub, event-loop delay) and POST /bench/gc.
// Run with --expose-gc so /bench/gc can collect before a memory reading.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify from 'fastify';
import { createApp } from '../../src/create-app.js';
import { errandWeb } from '../../src/web/index.js';
import { peekHub } from '../../src/web/hub-registry.js';

const broker = process.env.BENCH_BROKER;
if (!broker) throw new Error('BENCH_BROKER is required');

const app = createApp({ broker, logger: false });
const fastify = Fastify({ logger: false, forceCloseConnections: true });
// exposeResult: the latency workload reads the handler's finish time from the terminal message's result.
await fastify.register(errandWeb, { app, prefix: '', exposeResult: true });

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

fastify.get('/bench/stats', async () => {
  const memory = process.memoryUsage();
  const hub = peekHub(app.backend);
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    hubFeeds: hub?.size ?? 0,
    connections: await new Promise<number>((resolve) => fastify.server.getConnections((_e, n) => resolve(n ?? -1))),
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
});

fastify.post('/bench/gc', async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  loopDelay.reset();
  return { gc: gc !== undefined };
});

const address = await fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`bench web listening on ${address}\n`);

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  fastify
    .close()
    .then(() => app.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
  setTimeout(() => process.exit(1), 4000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown);
