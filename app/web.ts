import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { errandWeb, type WebRequest } from '../src/web/index.js';
import { bundleClient, LIVE_ENTRY } from './client-bundle.js';
import { createDemoChannelLayer } from './channel-layer.js';
import { chatRoute } from './channels/chat-route.js';
import { liveChartRoute } from './channels/live-chart-route.js';
import { livePageRoutes } from './routes/live-pages.js';
import { beatRoutes } from './routes/beat.js';
import { callbackRoutes } from './routes/callbacks.js';
import { notificationRoutes } from './routes/notifications.js';
import { progressRoutes } from './routes/progress.js';
import { visitorMayFollow } from './visitor.js';
import type { DemoConfig } from './config.js';
import { addErrorReplies } from './error-replies.js';
import { fakeApi } from './fake-api.js';
import { indexPage } from './pages/index-page.js';
import { djangoFormRoutes } from './routes/django-forms.js';
import { fastapiFormRoutes } from './routes/fastapi-form.js';
import { webhookRoutes } from './routes/webhooks.js';
import { addSecurityHeaders } from './security-headers.js';
import { BEAT_TAG, createDemoApp, demoOptionsFrom, type DemoApp } from './tasks.js';

/** The form is two short fields: anything bigger is not a real submission. */
export const BODY_LIMIT_BYTES = 16 * 1024;

export interface WebServerOptions {
  config: DemoConfig;
  /** The errand app to enqueue on; by default one is opened on config.broker and closed with the server. */
  demo?: DemoApp;
  logger?: FastifyServerOptions['logger'];
  /** The fake provider's dice, for tests. */
  random?: () => number;
}

const bootstrapDist = join(dirname(createRequire(import.meta.url).resolve('bootstrap/package.json')), 'dist');

/** The demo's web process: pages, form endpoints, errand's status endpoints and the fake provider. */
export async function buildWebServer(options: WebServerOptions): Promise<FastifyInstance> {
  const { config } = options;
  const demo = options.demo ?? createDemoApp(demoOptionsFrom(config));
  const ownsDemo = options.demo === undefined;
  const fastify = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // SSE and WebSocket watchers would otherwise hold close() open.
    forceCloseConnections: true,
    // Node refuses a Host-less HTTP/1.1 request with a bare 400; addErrorReplies refuses it with JSON instead.
    http: { requireHostHeader: false },
  });
  try {
    const clientJs = await bundleClient();
    const liveJs = await bundleClient(LIVE_ENTRY);
    const layer = createDemoChannelLayer(config.channelLayer ?? 'memory');
    // Closed with the server; errandWeb's preClose has already ended the sockets that read from it.
    fastify.addHook('onClose', async () => layer.close());
    const channels = { layer, routes: [chatRoute, liveChartRoute({ intervalMs: config.chartIntervalMs ?? 2000 })] };
    addSecurityHeaders(fastify);
    addErrorReplies(fastify);
    await fastify.register(fastifyCookie);
    await fastify.register(fastifyFormbody, { bodyLimit: BODY_LIMIT_BYTES });
    await fastify.register(fastifyStatic, { root: bootstrapDist, prefix: '/static/bootstrap/', decorateReply: false });

    fastify.get('/static/errand-client.js', async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(clientJs),
    );
    fastify.get('/static/live.js', async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(liveJs),
    );
    livePageRoutes(fastify);
    progressRoutes(fastify, demo);
    notificationRoutes(fastify, demo);
    beatRoutes(fastify, config.beatEveryMs ?? 10_000);
    fastify.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
    fastify.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(indexPage()));
    djangoFormRoutes(fastify, demo);
    fastapiFormRoutes(fastify, demo);
    await webhookRoutes(fastify, demo, config);
    await callbackRoutes(fastify, demo, config);

    // Status endpoints for both flavours: /task_status/, /tasks/:id/events, /ws/task_status/:id/ and the /users twins.
    // The demo's result (who subscribed) is no secret, so the pages may show it.
    // Plus the chat (WS /ws/chat/:room/) and the live chart (WS /ws/two_url/) on the channel layer,
    // and tag feeds (/feeds/:tag/ …): the visitor's own for /notifications/, the beat schedule's for anyone.
    const feeds = { authorize: (request: WebRequest, tag: string) => tag === BEAT_TAG || visitorMayFollow(request, tag) };
    await fastify.register(errandWeb, { app: demo.app, prefix: '', exposeResult: true, channels, feeds });
    await fastify.register(errandWeb, { app: demo.app, prefix: '/users', exposeResult: true });
    // The operations dashboard at /errand/dashboard/: loopback only unless DASHBOARD_TOKEN is set.
    const dashboard = config.dashboardToken === undefined ? {} : { token: config.dashboardToken };
    await fastify.register(errandWeb, { app: demo.app, prefix: '/errand', dashboard });

    await fastify.register(fakeApi, {
      delayMs: config.demoApiDelayMs,
      failureRate: config.demoApiFailureRate,
      random: options.random,
    });
    if (ownsDemo) fastify.addHook('onClose', async () => demo.app.close());
    await fastify.ready();
    return fastify;
  } catch (error) {
    await fastify.close().catch(() => {});
    if (ownsDemo) await demo.app.close().catch(() => {});
    throw error;
  }
}
