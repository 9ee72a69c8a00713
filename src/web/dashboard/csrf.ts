import type { WebRequest } from '../core/web-request.js';
import type { Refusal } from '../http-errors.js';
import { cookie, randomToken, sameSecret } from './secrets.js';

export const CSRF_COOKIE = 'errand_dashboard_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const TOKEN_SHAPE = /^[0-9a-f]{64}$/;

/**
 * The double-submit token of this browser session: the cookie's when it has
 * a well-formed one, else a new one with the Set-Cookie that stores it. The
 * page carries the same token and sends it back in a header on every POST.
 */
export function csrfToken(request: WebRequest, cookiePath: string): { token: string; setCookie?: string } {
  const current = request.cookies[CSRF_COOKIE];
  if (current !== undefined && TOKEN_SHAPE.test(current)) return { token: current };
  const token = randomToken();
  return { token, setCookie: cookie(request, CSRF_COOKIE, token, cookiePath) };
}

/**
 * undefined when a state-changing request is the dashboard page's own: the
 * browser says it is same-origin (Origin, Sec-Fetch-Site, when sent) and the
 * submitted token equals the cookie's, compared in constant time.
 */
export function checkCsrf(request: WebRequest, submitted: string | undefined): Refusal | undefined {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return forbidden(`a ${site} request may not change anything`);
  const origin = request.headers.origin;
  if (origin !== undefined && !sameHost(origin, request)) return forbidden('the Origin is not this dashboard’s');
  const expected = request.cookies[CSRF_COOKIE];
  if (expected === undefined || !TOKEN_SHAPE.test(expected)) return forbidden('no CSRF cookie: reload the dashboard');
  if (submitted === undefined || !sameSecret(submitted, expected)) return forbidden(`missing or wrong ${CSRF_HEADER}`);
  return undefined;
}

function sameHost(origin: string, request: WebRequest): boolean {
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const own = [request.headers.host, request.headers['x-forwarded-host']?.split(',')[0]?.trim()];
  return own.some((h) => h !== undefined && h.toLowerCase() === host.toLowerCase());
}

function forbidden(message: string): Refusal {
  return { status: 403, body: { error: 'forbidden', message: `CSRF check failed: ${message}` } };
}
