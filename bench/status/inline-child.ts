// The baseline of the form benchmark: a Fastify server whose POST /form/ awaits the
// slow provider call inline (no task queue), as a naive handler would.
import { setTimeout as sleep } from 'node:timers/promises';
import fastifyFormbody from '@fastify/formbody';
import Fastify from 'fastify';

const delayMs = Number(process.env.DEMO_API_DELAY_MS ?? 5000);
const fastify = Fastify({ logger: false, forceCloseConnections: true });
await fastify.register(fastifyFormbody);
fastify.post('/form/', async (request) => {
  const body = request.body as { email?: string };
  await sleep(delayMs); // the third-party call, awaited in the request
  return { subscribed: body.email ?? null };
});
const address = await fastify.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`bench inline listening on ${address}\n`);

const shutdown = (): void => {
  fastify.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
  setTimeout(() => process.exit(1), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown);
