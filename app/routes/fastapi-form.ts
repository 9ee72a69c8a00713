import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formPage } from '../pages/form-page.js';
import { isSameOrigin } from '../same-origin.js';
import type { DemoApp } from '../tasks.js';
import { FORM_VARIANTS } from '../variants.js';
import { enqueueSubscription } from './enqueue-subscription.js';

const variant = FORM_VARIANTS.find((v) => v.flavour === 'fastapi')!;

/**
 * /users/form/: a JSON API with no token. It is CSRF-safe because a
 * cross-site page can only send application/json after a CORS preflight
 * (which we never grant), and because the Origin must be ours.
 */
export function fastapiFormRoutes(fastify: FastifyInstance, demo: DemoApp): void {
  fastify.get(variant.path, async (_request, reply) => reply.type('text/html; charset=utf-8').send(formPage(variant)));

  fastify.post(variant.path, {
    onRequest: async (request, reply) => {
      if (!isJson(request)) {
        return reply.code(403).send({ error: 'forbidden', message: 'Send the form as application/json.' });
      }
      if (!isSameOrigin(request, { required: true })) {
        return reply
          .code(403)
          .send({ error: 'forbidden', message: 'Only same-origin requests (with an Origin header) are allowed.' });
      }
    },
    handler: async (request, reply) => enqueueSubscription(demo, request.body, reply),
  });
}

function isJson(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && type.split(';')[0]!.trim().toLowerCase() === 'application/json';
}
