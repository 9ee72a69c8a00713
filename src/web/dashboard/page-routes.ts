import type { HttpRoute } from '../core/route-table.js';
import type { WebRequest } from '../core/web-request.js';
import { errorReply, refusalReply, type WebReply } from '../core/web-response.js';
import { LOGIN_COOKIE, decideAccess } from './access.js';
import type { DashboardContext } from './context.js';
import { CSRF_HEADER, checkCsrf, csrfToken } from './csrf.js';
import { NO_STORE } from './json.js';
import { PAGE_HEADERS, dashboardPage, loginPage } from './render.js';
import { cookie, sameSecret, sessionValue } from './secrets.js';

const LOGIN_SECONDS = 12 * 60 * 60;

/** The page ({base}/), the login page ({base}/login) and the login/logout POSTs. */
export function pageRoutes(context: DashboardContext): HttpRoute[] {
  const { base, options } = context;
  const cookiePath = `${base}/`;
  // the token must be the one the page carries: render with it, then store it
  const html = (csrf: { setCookie?: string }, body: string): WebReply => {
    const { setCookie } = csrf;
    return { status: 200, headers: { ...PAGE_HEADERS, ...(setCookie ? { 'set-cookie': setCookie } : {}) }, body };
  };
  return [
    {
      methods: ['GET', 'HEAD'],
      path: '/dashboard/',
      optionalTrailingSlash: true,
      async handle(request) {
        if (!request.path.endsWith('/')) return redirect(`${request.path}/`);
        const decision = await decideAccess(options, request, context.log);
        if (!decision.ok) {
          if (decision.refusal.status === 401 && options.token !== undefined) return redirect(`${base}/login`);
          return refusalReply(decision.refusal);
        }
        const csrf = csrfToken(request, cookiePath);
        const { user, access } = decision.viewer;
        const page = dashboardPage({
          title: options.title,
          base,
          csrf: csrf.token,
          user,
          access,
          canLogOut: options.token !== undefined,
        });
        return html(csrf, page);
      },
    },
    {
      methods: ['GET', 'HEAD'],
      path: '/dashboard/login',
      async handle(request) {
        if (options.token === undefined)
          return errorReply(404, { error: 'not_found', message: 'no login page: the dashboard has no token' });
        const csrf = csrfToken(request, cookiePath);
        return html(csrf, loginPage(options.title, base, csrf.token));
      },
    },
    {
      methods: ['POST'],
      path: '/dashboard/api/login',
      async handle(request) {
        const token = options.token;
        if (token === undefined)
          return errorReply(404, { error: 'not_found', message: 'the dashboard has no token to sign in with' });
        const refusal = checkCsrf(request, request.headers[CSRF_HEADER]);
        if (refusal) return refusalReply(refusal);
        const given = await givenToken(request);
        if (given === undefined)
          return errorReply(400, { error: 'bad_request', message: 'send {"token": "..."}', field: 'token' }, NO_STORE);
        if (!sameSecret(given, token)) return errorReply(401, { error: 'unauthorized', message: 'wrong token' }, NO_STORE);
        const set = cookie(request, LOGIN_COOKIE, sessionValue(token), cookiePath, LOGIN_SECONDS);
        return { status: 204, headers: { ...NO_STORE, 'set-cookie': set } };
      },
    },
    {
      methods: ['POST'],
      path: '/dashboard/api/logout',
      async handle(request) {
        const refusal = checkCsrf(request, request.headers[CSRF_HEADER]);
        if (refusal) return refusalReply(refusal);
        return { status: 204, headers: { ...NO_STORE, 'set-cookie': cookie(request, LOGIN_COOKIE, '', cookiePath, 0) } };
      },
    },
  ];
}

function redirect(location: string): WebReply {
  return { status: 303, headers: { location, 'cache-control': 'no-store' } };
}

async function givenToken(request: WebRequest): Promise<string | undefined> {
  try {
    const body = JSON.parse(new TextDecoder().decode(await request.body())) as { token?: unknown };
    return typeof body.token === 'string' && body.token.length <= 1000 ? body.token : undefined;
  } catch {
    return undefined;
  }
}
