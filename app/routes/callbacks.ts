import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { CallbackRefusedError } from '../../src/index.js';
import { verifyStandardWebhook, WebhookVerificationError } from '../../src/webhooks/index.js';
import type { DemoConfig } from '../config.js';
import type { DemoApp } from '../tasks.js';

/** What the receiver keeps: the last few callbacks, newest first (a demo, in this process's memory). */
const KEEP = 50;
const BODY_LIMIT = 64 * 1024;

const callbackTestSchema = z.object({
  email: z.string().trim().min(1).max(254),
  username: z.string().trim().min(1).max(100),
  callback_url: z.url().max(2048).optional(),
});

interface ReceivedCallback {
  webhook_id: string;
  task_id: string;
  state: string;
  received_at: string;
}

/**
 * Seed 002's "endpoint callback": POST /callback_test/ enqueues the
 * provider call with a callback, answers 202 {task_id}, and errand POSTs
 * the outcome, signed, to `callback_url` when the task ends (by default
 * this process's own /callback_receiver/, which verifies the signature and
 * lists what it got at GET /callback_receiver/). Server-to-server JSON:
 * no CSRF token, as for the webhook routes.
 */
export async function callbackRoutes(fastify: FastifyInstance, demo: DemoApp, config: DemoConfig): Promise<void> {
  const received: ReceivedCallback[] = [];

  fastify.post('/callback_test/', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const parsed = callbackTestSchema.safeParse(request.body);
    if (!parsed.success) {
      const field = String(parsed.error.issues[0]?.path[0] ?? 'body');
      return reply.code(400).send({ error: 'bad_request', message: `invalid ${field}`, field });
    }
    const { email, username, callback_url: url = config.callbackReceiverUrl } = parsed.data;
    try {
      const { id } = await demo.notification.applyAsync([email, username], { callback: { url } });
      return reply.code(202).send({ task_id: id });
    } catch (error) {
      if (error instanceof CallbackRefusedError) {
        return reply.code(400).send({ error: 'bad_request', message: error.message, field: 'callback_url' });
      }
      throw error;
    }
  });

  fastify.get('/callback_test/:id/', async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!z.uuid().safeParse(id).success)
      return reply.code(400).send({ error: 'bad_request', message: 'id must be a task id', field: 'id' });
    const delivery = await demo.app.callbackDelivery(id);
    if (!delivery) return reply.code(404).send({ error: 'not_found', message: 'no callback delivery for this task (yet)' });
    return reply.send(delivery);
  });

  await fastify.register(receiverRoute, { secret: config.webhookSecret, received });
  fastify.get('/callback_receiver/', async (_request, reply) => reply.header('cache-control', 'no-store').send({ received }));
}

/** POST /callback_receiver/: verifies the Standard Webhooks signature over the raw body, then keeps the callback once per webhook-id. */
const receiverRoute: FastifyPluginAsync<{ secret: string; received: ReceivedCallback[] }> = async (
  fastify,
  { secret, received },
) => {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  fastify.post('/callback_receiver/', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const body = request.body as Buffer;
    let id: string;
    try {
      ({ id } = verifyStandardWebhook({ headers: request.headers as Record<string, string | undefined>, body, secrets: secret }));
    } catch (error) {
      if (error instanceof WebhookVerificationError) return reply.code(401).send({ error: error.reason, message: error.message });
      throw error;
    }
    const event = JSON.parse(body.toString('utf8')) as { task_id?: unknown; state?: unknown };
    if (!received.some((r) => r.webhook_id === id)) {
      received.unshift({
        webhook_id: id,
        task_id: String(event.task_id),
        state: String(event.state),
        received_at: new Date().toISOString(),
      });
      received.length = Math.min(received.length, KEEP);
    }
    return reply.send({ ok: true });
  });
};
