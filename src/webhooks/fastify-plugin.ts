import type { FastifyError, FastifyPluginAsync } from 'fastify';
import { fastifyWebRequest } from '../web/fastify/plugin.js';
import type { WebhookReceiver } from './receiver.js';
import { webhookError } from './webhook-replies.js';

export interface WebhookFastifyOptions {
  /** The route's path, e.g. '/hooks/stripe' (the register call's `prefix` applies). */
  path: string;
  receiver: WebhookReceiver;
}

/**
 * One webhook route in Fastify: `await fastify.register(webhookFastify, { path, receiver })`.
 * An encapsulated plugin (its parsers and error handler stay inside it): every
 * content type arrives as the raw bytes, which is what the signature covers
 * (Fastify's JSON parser would hand over a re-serialisable object instead),
 * and the receiver decides 415. The route's bodyLimit is the receiver's.
 */
export const webhookFastify: FastifyPluginAsync<WebhookFastifyOptions> = async (fastify, options) => {
  const { path, receiver } = options;
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  // Fastify's own refusals (body over the limit, a bad Content-Length) in the receiver's JSON shape.
  fastify.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode ?? 500;
    const answer =
      status === 413
        ? webhookError(413, 'payload_too_large', `the body is over ${receiver.maxBodyBytes} bytes`)
        : status < 500
          ? webhookError(400, 'invalid_event', error.message)
          : webhookError(500, 'internal', 'the webhook could not be handled');
    if (status >= 500) fastify.log.error({ err: error }, 'errand: a webhook delivery failed');
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
  fastify.post(path, { bodyLimit: receiver.maxBodyBytes }, async (request, reply) => {
    // Inside this plugin every body is the raw Buffer (see the content type parser above).
    const rawBody = async (): Promise<Uint8Array> => (request.body instanceof Uint8Array ? request.body : new Uint8Array(0));
    const answer = await receiver(fastifyWebRequest(request, rawBody));
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
};
