import { ConfigError } from '../../core/errors.js';
import { checkTag } from '../../core/tags.js';
import { checkAuthorized } from '../core/authorize-check.js';
import type { WebRequest } from '../core/web-request.js';
import type { Refusal } from '../http-errors.js';
import type { Parsed } from '../task-id.js';
import type { FeedContext } from './feed-context.js';

/** A tag from the path, checked as applyAsync checks tags. */
export function parseTag(value: unknown): Parsed<string> {
  try {
    return { ok: true, value: checkTag(value) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return {
      ok: false,
      error: { error: 'bad_request', message: 'tag must be 1 to 128 characters without control characters', field: 'tag' },
    };
  }
}

/** A cursor (`?after=`, Last-Event-ID): a whole number, 0 when absent. */
export function parseCursor(value: unknown, field: string): Parsed<number> {
  if (value === undefined || value === '') return { ok: true, value: 0 };
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) return { ok: true, value: Number(value.trim()) };
  return { ok: false, error: { error: 'bad_request', message: `${field} must be a feed cursor (a whole number)`, field } };
}

/** ?limit= of a poll: 1 to 500, default 100. */
export function parseLimit(value: unknown): Parsed<number> {
  if (value === undefined || value === '') return { ok: true, value: 100 };
  if (typeof value === 'string' && /^\d{1,3}$/.test(value) && Number(value) >= 1 && Number(value) <= 500) {
    return { ok: true, value: Number(value) };
  }
  return { ok: false, error: { error: 'bad_request', message: 'limit must be 1 to 500', field: 'limit' } };
}

export function checkFeedAccess(context: FeedContext, request: WebRequest, tag: string): Promise<Refusal | undefined> {
  return checkAuthorized(() => context.authorize(request, tag), 'you may not follow this feed', context.log);
}
