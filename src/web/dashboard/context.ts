import type { Errand } from '../../core/errand.js';
import { InvalidArgumentError } from '../../core/errors.js';
import type { RouteParams } from '../core/route-table.js';
import type { WebRequest } from '../core/web-request.js';
import { errorReply, refusalReply, type WebResponse } from '../core/web-response.js';
import type { Sessions } from '../sessions.js';
import { decideAccess, type Viewer } from './access.js';
import { CSRF_HEADER, checkCsrf } from './csrf.js';
import type { CheckedDashboardOptions } from './options.js';
import type { PanelCache } from './panel-cache.js';

/** What the dashboard's routes of one mount share. */
export interface DashboardContext {
  app: Errand;
  options: CheckedDashboardOptions;
  /** The dashboard's path: `{prefix}/dashboard`. */
  base: string;
  sessions: Sessions;
  heartbeatMs: number;
  /** Panel reads shared by the mount's live streams. */
  panels: PanelCache;
  log(error: unknown, message: string): void;
}

export type GuardedHandler = (request: WebRequest, params: RouteParams, viewer: Viewer) => Promise<WebResponse>;

/**
 * Wraps a handler with the access decision (and, for `write`, write access
 * plus the CSRF check), and turns a refused argument into a 400 naming the
 * field and a broker failure into a 503.
 */
export function guarded(context: DashboardContext, handler: GuardedHandler, mode: 'read' | 'write' = 'read') {
  return async (request: WebRequest, params: RouteParams): Promise<WebResponse> => {
    const decision = await decideAccess(context.options, request, context.log);
    if (!decision.ok) return refusalReply(decision.refusal);
    if (mode === 'write') {
      if (decision.viewer.access !== 'write')
        return errorReply(403, { error: 'forbidden', message: 'read-only access: actions are not allowed' });
      const refusal = checkCsrf(request, request.headers[CSRF_HEADER]);
      if (refusal) return refusalReply(refusal);
    }
    try {
      return await handler(request, params, decision.viewer);
    } catch (error) {
      if (error instanceof InvalidArgumentError) return badRequest(error.field, error.message);
      context.log(error, 'errand: a dashboard request failed');
      return errorReply(503, { error: 'unavailable', message: 'the task broker could not be read; try again' });
    }
  };
}

export function badRequest(field: string, message: string): WebResponse {
  return errorReply(400, { error: 'bad_request', message, field });
}

/** A single query parameter: undefined when absent or empty; a repeated one is refused. */
export function queryParam(request: WebRequest, name: string): string | undefined {
  const value = request.query[name];
  if (Array.isArray(value)) throw new InvalidArgumentError(name, 'must be given once');
  return value === undefined || value === '' ? undefined : value;
}

/** An integer query parameter within [min, max], or `fallback` when absent. */
export function intParam(request: WebRequest, name: string, fallback: number, min: number, max: number): number {
  const text = queryParam(request, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `must be an integer from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return value;
}
