import { ConfigError } from '../../core/errors.js';
import type { WebRequest } from '../core/web-request.js';

/** What a dashboard user may do: look, or look and act (retry, revoke, purge, pause, ...). */
export type DashboardAccess = 'read' | 'write';

/** An authorize decision: the access, optionally with the user's name for the action log. */
export type DashboardGrant = DashboardAccess | { access: DashboardAccess; user?: string } | false;

/**
 * Who may use the dashboard, called for every dashboard request (pages, JSON,
 * the live stream, actions). Return false for 403, or throw an error with a
 * 4xx `status` to choose the answer.
 */
export type AuthorizeDashboard = (request: WebRequest) => DashboardGrant | Promise<DashboardGrant>;

export interface DashboardBasicUser {
  username: string;
  password: string;
  /** Default 'write'. */
  access?: DashboardAccess;
}

/** The credentials options; with none of them the dashboard answers loopback clients only. */
export interface DashboardAuth {
  authorize?: AuthorizeDashboard;
  /** A shared secret: `Authorization: Bearer <token>`, or the login form (which sets a cookie). Write access. */
  token?: string;
  /** HTTP Basic users (one or several). */
  basicAuth?: DashboardBasicUser | DashboardBasicUser[];
}

/** ErrandWebOptions.dashboard: the live operations dashboard under {prefix}/dashboard/. */
export interface DashboardOptions extends DashboardAuth {
  /** How often the live stream reads app.admin (default 2000 ms). */
  refreshMs?: number;
  /** The page title (default 'errand dashboard'). */
  title?: string;
}

export interface CheckedDashboardOptions {
  authorize?: AuthorizeDashboard;
  token?: string;
  basicUsers: DashboardBasicUser[];
  refreshMs: number;
  title: string;
}

/** True when any credentials option is set (else: loopback clients only). */
export function hasCredentials(options: DashboardAuth | undefined): boolean {
  return options?.authorize !== undefined || options?.token !== undefined || options?.basicAuth !== undefined;
}

/** Refuses a malformed option at mount time (ConfigError), never at the first request. */
export function checkDashboardOptions(options: DashboardOptions): CheckedDashboardOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('dashboard must be an object ({} for the defaults)');
  const { authorize, token, basicAuth } = options;
  if (authorize !== undefined && typeof authorize !== 'function') throw new ConfigError('dashboard.authorize must be a function');
  if (token !== undefined && (typeof token !== 'string' || token.length < 16)) {
    throw new ConfigError('dashboard.token must be a string of at least 16 characters');
  }
  const basicUsers = basicAuth === undefined ? [] : Array.isArray(basicAuth) ? basicAuth : [basicAuth];
  for (const user of basicUsers) {
    if (typeof user?.username !== 'string' || !user.username || user.username.includes(':')) {
      throw new ConfigError('dashboard.basicAuth needs a username without ":"');
    }
    if (typeof user.password !== 'string' || user.password.length === 0)
      throw new ConfigError('dashboard.basicAuth needs a password');
    if (user.access !== undefined && user.access !== 'read' && user.access !== 'write') {
      throw new ConfigError(`dashboard.basicAuth access must be 'read' or 'write'`);
    }
  }
  const refreshMs = options.refreshMs ?? 2000;
  if (!Number.isFinite(refreshMs) || refreshMs < 50) throw new ConfigError('dashboard.refreshMs must be at least 50');
  const checked: CheckedDashboardOptions = { basicUsers, refreshMs, title: options.title ?? 'errand dashboard' };
  if (authorize) checked.authorize = authorize;
  if (token !== undefined) checked.token = token;
  return checked;
}
