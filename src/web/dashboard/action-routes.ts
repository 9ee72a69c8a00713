import type { TaskSelection } from '../../core/admin/admin-types.js';
import { InvalidArgumentError } from '../../core/errors.js';
import type { RouteParams } from '../core/route-table.js';
import type { WebRequest } from '../core/web-request.js';
import { guarded, type DashboardContext } from './context.js';
import { dashboardJson } from './json.js';

const MAX_BODY_BYTES = 256 * 1024;
const MAX_IDS = 10_000;
const FILTER_FIELDS = ['state', 'name', 'queue'] as const;

type Body = Record<string, unknown>;
type Act = (body: Body, actor: string) => Promise<number>;

/**
 * POST {base}/api/actions/:action with a JSON body; write access and the
 * CSRF token required. Every action goes through app.admin with the user as
 * actor, so it lands in the action log.
 */
export function actionRoutes(context: DashboardContext) {
  const admin = context.app.admin;
  const actions: Record<string, Act> = {
    retry: (body, actor) => admin.retry(selectionOf(body), { actor }),
    revoke: (body, actor) => admin.revoke(selectionOf(body), { actor }),
    purge: (body, actor) => admin.purge(queueOf(body), { actor }),
    pause: async (body, actor) => (await admin.pause(queueOf(body), { actor }), 1),
    resume: async (body, actor) => (await admin.resume(queueOf(body), { actor }), 1),
    'retry-dead-letters': (body, actor) => admin.retryDeadLetters(deadLettersOf(body), { actor }),
    'drop-dead-letters': (body, actor) => admin.dropDeadLetters(deadLettersOf(body), { actor }),
  };
  const handle = async (request: WebRequest, params: RouteParams, viewer: { user: string }) => {
    const act = Object.hasOwn(actions, params.action!) ? actions[params.action!] : undefined;
    if (!act) throw new InvalidArgumentError('action', `must be one of ${Object.keys(actions).join(', ')}`);
    const count = await act(await readJson(request), viewer.user);
    return dashboardJson({ action: params.action, count });
  };
  return [{ methods: ['POST'], path: '/dashboard/api/actions/:action', handle: guarded(context, handle, 'write') }];
}

async function readJson(request: WebRequest): Promise<Body> {
  const bytes = await request.body();
  if (bytes.length > MAX_BODY_BYTES) throw new InvalidArgumentError('body', `must be at most ${MAX_BODY_BYTES} bytes`);
  // express.json() before errand may have read the stream already: take what it parsed
  const parsed = (request.native as { body?: unknown } | undefined)?.body;
  let body: unknown;
  try {
    body =
      bytes.length > 0
        ? JSON.parse(new TextDecoder().decode(bytes))
        : typeof parsed === 'object' && parsed !== null
          ? parsed
          : {};
  } catch {
    throw new InvalidArgumentError('body', 'must be JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidArgumentError('body', 'must be a JSON object');
  return body as Body;
}

function idsOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IDS) {
    throw new InvalidArgumentError('ids', `must be a list of 1 to ${MAX_IDS} task ids`);
  }
  if (!value.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 200)) {
    throw new InvalidArgumentError('ids', 'must be task ids (strings)');
  }
  return value as string[];
}

/** `{ ids: [...] }`, or `{ filter: { state?, name?, queue? } }` for every task the filter matches. */
function selectionOf(body: Body): TaskSelection {
  if (body.ids !== undefined) return { ids: idsOf(body.ids) };
  const filter = body.filter;
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new InvalidArgumentError('ids', 'give ids: [...] or filter: { state, name, queue }');
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (!(FILTER_FIELDS as readonly string[]).includes(key))
      throw new InvalidArgumentError(`filter.${key}`, 'is not a filter field');
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string') throw new InvalidArgumentError(`filter.${key}`, 'must be a string');
    out[key] = value;
  }
  // a filter of nothing would act on every task in the broker: too easy to press by mistake
  if (out.state === undefined) throw new InvalidArgumentError('filter.state', 'a bulk action needs a state');
  return { filter: out as Extract<TaskSelection, { filter: unknown }>['filter'] };
}

function queueOf(body: Body): string {
  if (typeof body.queue !== 'string') throw new InvalidArgumentError('queue', 'must be a queue name');
  return body.queue;
}

function deadLettersOf(body: Body): readonly string[] | 'all' {
  if (body.all === true) return 'all';
  return idsOf(body.ids);
}
