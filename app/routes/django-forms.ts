import type { FastifyInstance } from 'fastify';
import { csrfTokenMatches, issueCsrfCookie } from '../csrf.js';
import { formPage } from '../pages/form-page.js';
import { isSameOrigin } from '../same-origin.js';
import type { DemoApp } from '../tasks.js';
import { FORM_VARIANTS } from '../variants.js';
import { enqueueSubscription } from './enqueue-subscription.js';

/** /form/, /form_ws/, /form_sse/: urlencoded posts guarded by a double-submit CSRF token, like Django. */
export function djangoFormRoutes(fastify: FastifyInstance, demo: DemoApp): void {
  for (const variant of FORM_VARIANTS.filter((v) => v.flavour === 'django')) {
    fastify.get(variant.path, async (request, reply) => {
      issueCsrfCookie(request, reply);
      return reply.type('text/html; charset=utf-8').send(formPage(variant));
    });

    fastify.post(variant.path, {
      // Checked before the body is read: a forged request costs no parsing.
      onRequest: async (request, reply) => {
        // Like Django, a present Origin must be ours; the token is the main guard.
        if (!isSameOrigin(request, { required: false }) || !csrfTokenMatches(request)) {
          return reply.code(403).send({ error: 'csrf', message: 'CSRF token missing or incorrect.' });
        }
      },
      handler: async (request, reply) => enqueueSubscription(demo, request.body, reply),
    });
  }
}
