import type { FastifyInstance } from 'fastify';
import { csrfTokenMatches, issueCsrfCookie } from '../csrf.js';
import { progressPage } from '../pages/progress-page.js';
import { PROGRESS_ITEMS } from '../progress-task.js';
import { isSameOrigin } from '../same-origin.js';
import type { DemoApp } from '../tasks.js';

/** /progress/: the page, and its POST that starts the long task (CSRF-guarded like the Django form). */
export function progressRoutes(fastify: FastifyInstance, demo: DemoApp): void {
  fastify.get('/progress/', async (request, reply) => {
    issueCsrfCookie(request, reply);
    return reply.type('text/html; charset=utf-8').send(progressPage());
  });

  fastify.post('/progress/', {
    onRequest: async (request, reply) => {
      if (!isSameOrigin(request, { required: false }) || !csrfTokenMatches(request)) {
        return reply.code(403).send({ error: 'csrf', message: 'CSRF token missing or incorrect.' });
      }
    },
    handler: async (_request, reply) => {
      const { id } = await demo.progress.delay(PROGRESS_ITEMS);
      return reply.code(202).send({ task_id: id });
    },
  });
}
