import { countSubscriber } from '../../core/process-stats.js';
import type { WsRoute } from '../core/route-table.js';
import { foreignOrigin } from '../origin-check.js';
import { parseTaskId } from '../task-id.js';
import type { StatusContext } from './status-context.js';
import { CLOSE_BAD_ID, refusingSession, StatusWsSession } from './ws-session.js';

/**
 * WS {prefix}/ws/task_status/:id/ (the trailing slash is optional). Before the
 * handshake: the Origin check (a page from another site gets a plain 403:
 * cross-site WebSocket hijacking), then authorize (401/403). A malformed id is
 * accepted and closed with 4400, which tells the client not to retry.
 */
export function wsRoute(context: StatusContext): WsRoute {
  return {
    path: '/ws/task_status/:id/',
    optionalTrailingSlash: true,
    async admit(request, params) {
      const foreign = foreignOrigin(request, context.allowedOrigins);
      if (foreign) return foreign;
      const parsed = parseTaskId(params.id);
      if (!parsed.ok) return { ok: true, open: (peer) => refusingSession(peer, CLOSE_BAD_ID, 'bad task id') };
      const taskId = parsed.value;
      const refusal = await context.access.check(request, taskId);
      if (refusal) return { ok: false, refusal };
      return {
        ok: true,
        open: (peer) =>
          new StatusWsSession(peer, taskId, {
            hub: context.hub,
            heartbeatMs: context.heartbeatMs,
            track: (close) => {
              const forget = context.sessions.add(close);
              const uncount = countSubscriber('ws');
              return () => {
                uncount();
                return forget();
              };
            },
            encode: (event) => context.access.encodeBytes(event, request),
            log: context.log,
          }),
      };
    },
  };
}
