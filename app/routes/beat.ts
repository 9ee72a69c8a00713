import type { FastifyInstance } from 'fastify';
import { beatPage } from '../pages/beat-page.js';
import { BEAT_TAG } from '../tasks.js';

/** /beat/: the demo schedule's ticks, live (the feed of BEAT_TAG is public, see web.ts). */
export function beatRoutes(fastify: FastifyInstance, everyMs: number): void {
  fastify.get('/beat/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(beatPage(BEAT_TAG, everyMs)));
}
