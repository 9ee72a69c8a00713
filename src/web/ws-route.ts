import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { StatusHub } from '../status/status-hub.js';
import { rejectUpgrade } from './http-errors.js';
import { isOriginAllowed } from './origin-check.js';
import type { Sessions } from './sessions.js';
import { parseTaskId } from './task-id.js';
import { addUpgradeRoute, removeUpgradeRoute, type UpgradeRoute } from './upgrade-dispatcher.js';
import { CLOSE_BAD_ID, runWsSession } from './ws-session.js';

export interface WsRouteOptions {
  hub: StatusHub;
  prefix: string;
  heartbeatMs: number;
  allowedOrigins: ReadonlySet<string>;
  sessions: Sessions;
}

/** WS {prefix}/ws/task_status/:id/ (the trailing slash is optional). */
export function registerWsRoute(fastify: FastifyInstance, options: WsRouteOptions): void {
  const pattern = new RegExp(`^${escapeRegExp(options.prefix)}/ws/task_status/([^/]+)/?$`);
  const route: UpgradeRoute = {
    match: (pathname) => pattern.exec(pathname)?.[1],
    admit(request, socket) {
      // Checked before the handshake: a page from another site gets a plain 403.
      if (isOriginAllowed(request.headers.origin, request.headers.host, options.allowedOrigins)) return true;
      rejectUpgrade(socket, 403, { error: 'forbidden', message: 'this Origin may not open a WebSocket here' });
      return false;
    },
    onConnection(ws, _request, param) {
      const parsed = parseTaskId(safeDecode(param));
      if (!parsed.ok) return refuse(ws, CLOSE_BAD_ID, 'bad task id');
      void runWsSession(ws, parsed.value, {
        hub: options.hub,
        heartbeatMs: options.heartbeatMs,
        track: (close) => options.sessions.add(close),
      }).catch((error: unknown) => {
        fastify.log.error({ err: error }, 'errand: WebSocket session failed');
        ws.terminate();
      });
    },
  };
  addUpgradeRoute(fastify.server, route);
  fastify.addHook('onClose', async () => removeUpgradeRoute(fastify.server, route));
}

/**
 * Closes a socket no session owns. The dispatcher's 'error' listener drops it if the client
 * answers with a malformed frame; a client that never answers the close is dropped after
 * CLOSE_GRACE_MS instead of ws's 30 s.
 */
function refuse(ws: WebSocket, code: number, reason: string): void {
  ws.close(code, reason);
  setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
}

const CLOSE_GRACE_MS = 1000;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
