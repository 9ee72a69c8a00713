import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { verifyStandardWebhook, webhookFastify, webhookReceiver, WebhookVerificationError } from '../../src/webhooks/index.js';
import type { DemoConfig } from '../config.js';
import type { DemoApp } from '../tasks.js';
import { processNotification, type Notification } from '../webhook-task.js';

/** Largest notification the demo takes: a few fields. */
const WEBHOOK_BODY_LIMIT = 64 * 1024;

const notificationSchema = z.object({
  type: z.string().max(100),
  data: z.object({ email: z.string().max(254), username: z.string().max(100) }),
});

/**
 * The tutorial's webhook endpoints, in both flavours (/ and /users/):
 * /webhook_test/ does the slow provider call inside the request (the problem:
 * the sender waits seconds and may time out and retry), /webhook_test_async/
 * verifies, enqueues and answers 202 {task_id} at once.
 *
 * No CSRF token or Origin check here: the sender is a server, not a browser
 * page, and the Standard Webhooks signature (config.webhookSecret) is what
 * proves who sent it. A browser cannot forge the signature either.
 */
export async function webhookRoutes(fastify: FastifyInstance, demo: DemoApp, config: DemoConfig): Promise<void> {
  if (config.webhookSecretIsDefault) {
    fastify.log.warn('WEBHOOK_SECRET is not set: /webhook_test*/ accept the published dev secret; set it outside local runs');
  }
  const receiver = webhookReceiver({
    app: demo.app,
    task: demo.notification,
    scheme: 'standard',
    secrets: config.webhookSecret,
    maxBodyBytes: WEBHOOK_BODY_LIMIT,
    maxQueueDepth: 10_000,
    toArgs: (event: unknown) => {
      const { data } = notificationSchema.parse(event) as Notification;
      return [data.email, data.username];
    },
  });
  for (const prefix of ['', '/users']) {
    await fastify.register(webhookFastify, { path: `${prefix}/webhook_test_async/`, receiver });
    await fastify.register(inlineWebhook, { path: `${prefix}/webhook_test/`, config });
  }
}

/** The blocking version, for comparison: verified the same way, then the provider is called before answering. */
const inlineWebhook: FastifyPluginAsync<{ path: string; config: DemoConfig }> = async (fastify, { path, config }) => {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  fastify.post(path, { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request, reply) => {
    const body = request.body as Buffer;
    try {
      verifyStandardWebhook({
        headers: request.headers as Record<string, string | undefined>,
        body,
        secrets: config.webhookSecret,
      });
    } catch (error) {
      if (error instanceof WebhookVerificationError) return reply.code(401).send({ error: error.reason, message: error.message });
      throw error;
    }
    let event: Notification;
    try {
      event = notificationSchema.parse(JSON.parse(body.toString('utf8'))) as Notification;
    } catch {
      return reply.code(400).send({ error: 'invalid_event', message: 'expected {"type", "data": {"email", "username"}}' });
    }
    try {
      const result = await processNotification(config.demoApiUrl, event.data.email, event.data.username, hangUp(reply.raw));
      return reply.send(result);
    } catch (error) {
      return reply.code(502).send({ error: 'provider_error', message: error instanceof Error ? error.message : String(error) });
    }
  });
};

/** Aborts when the sender hangs up before the answer is sent (request.signal also fires once the body is read). */
function hangUp(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
