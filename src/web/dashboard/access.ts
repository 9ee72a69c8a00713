import type { WebRequest } from '../core/web-request.js';
import { errorCodeFor, type Refusal } from '../http-errors.js';
import { isLocalRequest } from './loopback.js';
import type { CheckedDashboardOptions, DashboardAccess, DashboardGrant } from './options.js';
import { sameSecret, sessionValue } from './secrets.js';

export const LOGIN_COOKIE = 'errand_dashboard_login';

/** Who is looking: their access and the name their actions are logged under. */
export interface Viewer {
  access: DashboardAccess;
  user: string;
}

export type AccessDecision = { ok: true; viewer: Viewer } | { ok: false; refusal: Refusal };

const LOOPBACK_ONLY =
  'the dashboard answers loopback clients only; give dashboard.authorize, token or basicAuth (credentials) to open it to others';

/**
 * Decides what `request` may do on the dashboard. Credentials the request
 * carries (Basic, Bearer, the login cookie) are checked first, then
 * `authorize`. With no credentials option at all, only a loopback client that
 * no proxy forwarded gets in (write access, as user 'local').
 */
export async function decideAccess(
  options: CheckedDashboardOptions,
  request: WebRequest,
  log: (error: unknown, message: string) => void,
): Promise<AccessDecision> {
  const { authorize, token, basicUsers } = options;
  if (!authorize && token === undefined && basicUsers.length === 0) {
    if (isLocalRequest(request)) return granted('write', 'local');
    return refused(403, LOOPBACK_ONLY);
  }
  const header = request.headers.authorization ?? '';
  const [scheme = '', credentials = ''] = header.split(/\s+/, 2);
  if (scheme.toLowerCase() === 'basic' && basicUsers.length > 0) {
    const text = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    const [name, password] = colon < 0 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)];
    // every user is compared, so the time taken does not say which names exist
    const matches = basicUsers.filter((u) => sameSecret(u.username, name) && sameSecret(u.password, password));
    if (matches[0]) return granted(matches[0].access ?? 'write', matches[0].username);
    return unauthorized(options, 'wrong username or password');
  }
  if (scheme.toLowerCase() === 'bearer' && token !== undefined) {
    return sameSecret(credentials, token) ? granted('write', 'token') : unauthorized(options, 'wrong token');
  }
  const session = request.cookies[LOGIN_COOKIE];
  if (token !== undefined && session !== undefined && sameSecret(session, sessionValue(token))) return granted('write', 'token');
  if (authorize) {
    let grant: DashboardGrant;
    try {
      grant = await authorize(request);
    } catch (error) {
      const status = clientStatus(error);
      if (status !== undefined) return refused(status, error instanceof Error && error.message ? error.message : 'refused');
      log(error, 'errand: dashboard authorize threw');
      return refused(500, 'authorization failed');
    }
    if (grant === 'read' || grant === 'write') return granted(grant, 'dashboard');
    if (grant && (grant.access === 'read' || grant.access === 'write')) return granted(grant.access, grant.user ?? 'dashboard');
    if (token === undefined && basicUsers.length === 0) return refused(403, 'you may not use the dashboard');
  }
  return unauthorized(options, 'sign in to use the dashboard');
}

function granted(access: DashboardAccess, user: string): AccessDecision {
  return { ok: true, viewer: { access, user } };
}

function refused(status: number, message: string, headers?: Record<string, string>): AccessDecision {
  const refusal: Refusal = { status, body: { error: errorCodeFor(status), message } };
  if (headers) refusal.headers = headers;
  return { ok: false, refusal };
}

function unauthorized(options: CheckedDashboardOptions, message: string): AccessDecision {
  // A Basic challenge makes the browser ask; token users sign in on the login page instead.
  const challenge =
    options.basicUsers.length > 0 ? { 'www-authenticate': 'Basic realm="errand dashboard", charset="UTF-8"' } : undefined;
  return refused(401, message, challenge);
}

function clientStatus(error: unknown): number | undefined {
  const { status, statusCode } = (typeof error === 'object' && error !== null ? error : {}) as {
    status?: unknown;
    statusCode?: unknown;
  };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 499 ? value : undefined;
}
