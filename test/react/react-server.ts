import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { csrfTokenMatches, issueCsrfCookie } from '../../app/csrf.js';
import { createApp, type Errand, type Worker } from '../../src/index.js';
import { peekHub } from '../../src/web/hub-registry.js';
import { errandWeb } from '../../src/web/index.js';
import { defineReactTasks, type ReactTasks } from './fixtures/tasks.js';

export interface WebServer {
  fastify: FastifyInstance;
  /** http://127.0.0.1:port */
  base: string;
  /** ws://127.0.0.1:port */
  wsBase: string;
}

export interface ReactTestEnv {
  app: Errand;
  worker: Worker;
  tasks: ReactTasks;
  web: WebServer;
  /** Local subscribers of a task on the server's status hub (WebSocket and SSE watchers). */
  watchers(id: string): number;
  close(): Promise<void>;
}

export interface ReactServerOptions {
  /** Extra GET routes: path → [content type, body] (the browser test's page and bundle). */
  files?: Record<string, [type: string, body: string]>;
}

/**
 * A real errand server for the hooks: a memory broker and a worker, the
 * status routes under '' and '/users' (with the result exposed), and two enqueue endpoints like the
 * reference app's: POST /form/ (urlencoded, double-submit CSRF cookie from
 * GET /form/) and POST /users/form/ (JSON). Both answer `{ task_id }`.
 */
export async function startReactEnv(options: ReactServerOptions = {}): Promise<ReactTestEnv> {
  const app = createApp({ broker: 'memory://', logger: false });
  const tasks = defineReactTasks(app);
  const worker = app.worker({ handleSignals: false, claimWaitMs: 20 });
  await worker.start();
  const fastify = Fastify({ logger: false, forceCloseConnections: true });
  await fastify.register(fastifyCookie);
  await fastify.register(fastifyFormbody);
  await fastify.register(errandWeb, { app, prefix: '', exposeResult: true });
  await fastify.register(errandWeb, { app, prefix: '/users', exposeResult: true });

  const enqueue = async (body: unknown, reply: FastifyReply) => {
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const email = String(fields.email ?? '');
    if (!email.includes('@'))
      return reply.code(400).send({ error: 'validation', fields: { email: 'Enter a valid email address.' } });
    const r = email.startsWith('fail')
      ? await tasks.fail.delay(`could not subscribe ${email}`)
      : await tasks.subscribe.applyAsync([email, Number(fields.steps ?? 2), Number(fields.stepMs ?? 20)], {
          countdown: Number(fields.countdown ?? 0),
        });
    return reply.send({ task_id: r.id });
  };
  fastify.get('/form/', async (request, reply) => {
    issueCsrfCookie(request, reply);
    return reply.type('text/html; charset=utf-8').send(options.files?.['/form/']?.[1] ?? '<!doctype html><title>form</title>');
  });
  fastify.post('/form/', {
    onRequest: async (request, reply) => {
      if (!csrfTokenMatches(request)) return reply.code(403).send({ error: 'csrf', message: 'CSRF token missing or incorrect.' });
    },
    handler: async (request, reply) => enqueue(request.body, reply),
  });
  fastify.post('/users/form/', async (request, reply) => enqueue(request.body, reply));
  fastify.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
  for (const [path, [type, body]] of Object.entries(options.files ?? {})) {
    if (path !== '/form/') fastify.get(path, async (_request, reply) => reply.type(type).send(body));
  }

  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const address = fastify.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const host = `127.0.0.1:${address.port}`;
  const web: WebServer = { fastify, base: `http://${host}`, wsBase: `ws://${host}` };
  return {
    app,
    worker,
    tasks,
    web,
    watchers: (id) => peekHub(app.backend)?.subscriberCount(id) ?? 0,
    async close() {
      await fastify.close();
      await app.close();
    },
  };
}
