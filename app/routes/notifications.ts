import type { FastifyInstance } from 'fastify';
import { csrfTokenMatches, issueCsrfCookie } from '../csrf.js';
import { notificationsPage } from '../pages/notifications-page.js';
import { isSameOrigin } from '../same-origin.js';
import type { DemoApp } from '../tasks.js';
import { issueVisitor, visitorOf, visitorTag } from '../visitor.js';

/** Items of the short task each click starts (a second or so at the default pace). */
export const NOTIFY_ITEMS = 40;

/**
 * /notifications/: seed 003's per-user updates. Each click starts a task
 * tagged with the visitor; every open tab of that visitor follows the tag's
 * feed and shows a toast per task as it changes.
 */
export function notificationRoutes(fastify: FastifyInstance, demo: DemoApp): void {
  fastify.get('/notifications/', async (request, reply) => {
    issueCsrfCookie(request, reply);
    const visitor = issueVisitor(request, reply);
    return reply.type('text/html; charset=utf-8').send(notificationsPage(visitorTag(visitor)));
  });

  fastify.post('/notifications/', {
    onRequest: async (request, reply) => {
      if (!isSameOrigin(request, { required: false }) || !csrfTokenMatches(request)) {
        return reply.code(403).send({ error: 'csrf', message: 'CSRF token missing or incorrect.' });
      }
    },
    handler: async (request, reply) => {
      const visitor = visitorOf(request.headers.cookie);
      if (visitor === undefined) {
        return reply
          .code(400)
          .send({ error: 'bad_request', message: 'open /notifications/ first: no visitor cookie', field: 'cookie' });
      }
      const { id } = await demo.progress.applyAsync([NOTIFY_ITEMS], { tags: [visitorTag(visitor)] });
      return reply.code(202).send({ task_id: id });
    },
  });
}
