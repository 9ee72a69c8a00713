import type { FastifyInstance } from 'fastify';
import type { Errand } from '../core/errand.js';
import { statusMessage } from '../status/status-message.js';
import { brokerUnavailable, notFound, sendError } from './http-errors.js';
import { parsePollQuery } from './task-id.js';

/**
 * GET {prefix}/task_status/?task_id=ID — the seeds' polling endpoint.
 * ETag is the version, so an unchanged task costs a 304 and no body.
 * An unknown id is a 404, never PENDING (Celery's trap: a typo polls for ever).
 */
export function registerPollRoute(fastify: FastifyInstance, app: Errand, prefix: string): void {
  fastify.get(`${prefix}/task_status/`, async (request, reply) => {
    const parsed = parsePollQuery(request.query);
    if (!parsed.ok) return sendError(reply, 400, parsed.error);
    let info;
    try {
      info = await app.result(parsed.value).info();
    } catch (error) {
      request.log.error({ err: error }, 'errand: reading task status failed');
      return sendError(reply, 503, brokerUnavailable);
    }
    if (!info) return sendError(reply, 404, notFound(parsed.value));
    const etag = `"${info.version}"`;
    reply.header('etag', etag).header('cache-control', 'no-cache');
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
    return reply.send(statusMessage(info));
  });
}

/** If-None-Match may list several tags, weak ones (W/"3") included, or be "*". */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}
