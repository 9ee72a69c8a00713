import { processStats } from '../../core/process-stats.js';
import type { TaskInfo } from '../../core/types.js';
import { brokerUnavailable, notFound } from '../http-errors.js';
import type { HttpRoute } from '../core/route-table.js';
import { errorReply, jsonReply, refusalReply } from '../core/web-response.js';
import { parsePollQuery } from '../task-id.js';
import type { StatusContext } from './status-context.js';

/**
 * GET {prefix}/task_status/?task_id=ID — the polling endpoint of the Django + Celery and FastAPI tutorials.
 * ETag is the version, so an unchanged task costs a 304 and no body.
 * An unknown id is a 404, never PENDING (Celery's trap: a typo polls for ever).
 * authorize runs before the task is read, so a refused client cannot tell known ids from unknown ones.
 */
export function pollRoute(context: StatusContext): HttpRoute {
  return {
    methods: ['GET', 'HEAD'],
    path: '/task_status/',
    optionalTrailingSlash: true,
    async handle(request) {
      processStats.statusPolls++;
      const parsed = parsePollQuery(request.query);
      if (!parsed.ok) return errorReply(400, parsed.error);
      const refusal = await context.access.check(request, parsed.value);
      if (refusal) return refusalReply(refusal);
      let info: TaskInfo | null;
      try {
        info = await context.app.result(parsed.value).info();
      } catch (error) {
        context.log(error, 'errand: reading task status failed');
        return errorReply(503, brokerUnavailable);
      }
      if (!info) return errorReply(404, notFound(parsed.value));
      const etag = `"${info.version}"`;
      const headers = { etag, 'cache-control': context.access.cacheControl() };
      if (etagMatches(request.headers['if-none-match'], etag)) return { status: 304, headers };
      return jsonReply(200, context.access.message(info, request), headers);
    },
  };
}

/** If-None-Match may list several tags, weak ones (W/"3") included, or be "*". */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}
