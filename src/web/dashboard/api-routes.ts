import { InvalidArgumentError } from '../../core/errors.js';
import type { HttpRoute } from '../core/route-table.js';
import { errorReply, type WebReply } from '../core/web-response.js';
import { guarded, intParam, type DashboardContext } from './context.js';
import { NO_STORE, dashboardJson } from './json.js';
import { panelReaders, taskDetail, taskList, taskQueryOf } from './panels.js';
import { rawText } from './truncate.js';

/** The most characters, and the most bytes, one raw request returns. */
export const RAW_PAGE_CHARS = 64 * 1024;
const RAW_PAGE_BYTES = 64 * 1024;
const RAW_FIELDS = ['args', 'result', 'error'] as const;

/** GET {base}/api/...: the panels as JSON, for the page and for scripts. */
export function apiRoutes(context: DashboardContext): HttpRoute[] {
  const { app } = context;
  const get = (path: string, handle: HttpRoute['handle']): HttpRoute => ({
    methods: ['GET', 'HEAD'],
    path: `/dashboard/api/${path}`,
    handle,
  });
  const panels = panelReaders(app);
  const routes = Object.entries(panels).map(([name, read]) =>
    get(
      name,
      guarded(context, async () => dashboardJson(await read())),
    ),
  );
  routes.push(
    get(
      'session',
      guarded(context, async (_request, _params, viewer) => dashboardJson(viewer)),
    ),
    get(
      'tasks',
      guarded(context, async (request) => dashboardJson(await taskList(app, taskQueryOf(request)))),
    ),
    get(
      'tasks/:id',
      guarded(context, async (_request, params) => {
        const detail = await taskDetail(app, params.id!);
        return detail ? dashboardJson(detail) : notFound(params.id!);
      }),
    ),
    get(
      'tasks/:id/raw/:field',
      guarded(context, async (request, params) => {
        const field = params.field as (typeof RAW_FIELDS)[number];
        if (!RAW_FIELDS.includes(field)) throw new InvalidArgumentError('field', `must be one of ${RAW_FIELDS.join(', ')}`);
        const detail = await app.admin.task(params.id!);
        const text = detail ? rawText(detail, field) : undefined;
        if (text === undefined) return notFound(params.id!);
        return rawPage(
          text,
          intParam(request, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
          intParam(request, 'limit', RAW_PAGE_CHARS, 1, RAW_PAGE_CHARS),
        );
      }),
    ),
  );
  return routes;
}

/**
 * A slice of a value's JSON text: up to `limit` characters from `offset`,
 * and never more than RAW_PAGE_BYTES of UTF-8. The headers say where it is:
 * X-Total-Length (characters), X-Next-Offset when more follows. 206 for a
 * part, 200 for the whole text.
 */
function rawPage(text: string, offset: number, limit: number): WebReply {
  const start = Math.min(offset, text.length);
  let chunk = text.slice(start, start + limit);
  if (Buffer.byteLength(chunk) > RAW_PAGE_BYTES)
    chunk = Buffer.from(chunk)
      .subarray(0, RAW_PAGE_BYTES)
      .toString()
      .replace(/\uFFFD$/, '');
  // never end between the two halves of a surrogate pair
  if (/[\uD800-\uDBFF]$/.test(chunk)) chunk = chunk.slice(0, -1);
  const end = start + chunk.length;
  const headers: Record<string, string> = {
    ...NO_STORE,
    'content-type': 'text/plain; charset=utf-8',
    'x-total-length': String(text.length),
    'x-offset': String(start),
  };
  if (end < text.length) headers['x-next-offset'] = String(end);
  const whole = start === 0 && end === text.length;
  return { status: whole ? 200 : 206, headers, body: chunk };
}

function notFound(id: string): WebReply {
  return errorReply(404, { error: 'not_found', message: `no task with id "${id.slice(0, 200)}" (unknown or expired)` }, NO_STORE);
}
