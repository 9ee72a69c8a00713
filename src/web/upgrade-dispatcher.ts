import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { rejectUpgrade, type ErrorBody } from './http-errors.js';

/** Incoming WebSocket messages are ignored; this bounds what a client can make us buffer. */
export const MAX_PAYLOAD_BYTES = 4096;

export interface UpgradeRoute {
  /** Returns the route's parameter (the task id) when the path is this route's, else undefined. */
  match(pathname: string): string | undefined;
  /** Decides before the handshake: return true to accept, or answer on the socket and return false. */
  admit(request: IncomingMessage, socket: Duplex): boolean;
  /** Runs once the handshake is done; the socket already has an 'error' listener (see `guard`). */
  onConnection(ws: WebSocket, request: IncomingMessage, param: string): void;
}

/**
 * ONE `upgrade` listener per HTTP server, shared by every registration of the
 * plugin (prefixes '' and '/users' on one server): it routes by path and
 * answers any other path with 404, so no upgrade is left hanging.
 *
 * Nothing a client sends may throw out of here: an exception in an 'upgrade'
 * listener, or an 'error' event nobody listens to on a socket, ends the whole
 * process. So the raw socket gets an error listener before anything else,
 * every accepted WebSocket gets one before route code sees it (a malformed
 * frame, e.g. one over MAX_PAYLOAD_BYTES or a bad close code, is an 'error'
 * event from ws's Receiver), and a refused handshake is a JSON HTTP answer.
 */
class UpgradeDispatcher {
  private readonly routes = new Set<UpgradeRoute>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PAYLOAD_BYTES,
    perMessageDeflate: false,
    // We speak no subprotocol: never echo the client's Sec-WebSocket-Protocol back as a response header.
    handleProtocols: () => false,
  });
  private readonly listener = (request: IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.onUpgrade(request, socket, head);

  constructor(private readonly server: Server) {
    server.on('upgrade', this.listener);
    // Handshakes ws itself refuses (a bad Sec-WebSocket-Key or Sec-WebSocket-Protocol): JSON, like every other refusal.
    this.wss.on('wsClientError', (error: Error, socket: Duplex) =>
      rejectUpgrade(socket, 400, { error: 'bad_request', message: `bad WebSocket handshake: ${error.message}` }),
    );
    this.wss.on('error', () => undefined); // the noServer WebSocketServer never listens, but stay safe
  }

  add(route: UpgradeRoute): void {
    this.routes.add(route);
  }

  /** Forgets a route; returns true when none is left (the dispatcher then detaches). */
  remove(route: UpgradeRoute): boolean {
    this.routes.delete(route);
    if (this.routes.size > 0) return false;
    this.server.off('upgrade', this.listener);
    this.wss.close();
    return true;
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    try {
      this.route(request, socket, head);
    } catch {
      // A bug of ours, not the client's: refuse this one upgrade rather than lose the process.
      rejectUpgrade(socket, 500, { error: 'internal', message: 'the WebSocket upgrade failed' });
    }
  }

  private route(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const pathname = pathOf(request.url);
    for (const route of this.routes) {
      const param = pathname === undefined ? undefined : route.match(pathname);
      if (param === undefined) continue;
      if (!route.admit(request, socket)) return;
      const refusal = checkHandshake(request);
      if (refusal) return rejectUpgrade(socket, refusal.status, refusal.body, refusal.headers);
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        guard(ws);
        try {
          route.onConnection(ws, request, param);
        } catch {
          ws.terminate();
        }
      });
      return;
    }
    rejectUpgrade(socket, 404, { error: 'not_found', message: 'no WebSocket endpoint at this path' });
  }
}

/**
 * A protocol error (oversized or reserved frame, unmasked data, a bad close
 * code...) is an 'error' event on the WebSocket: ws has already sent its close
 * frame by then, so drop the connection instead of waiting 30 s for the
 * client's answer. Routes may add their own listeners; this one is always there.
 */
function guard(ws: WebSocket): void {
  ws.on('error', () => ws.terminate());
}

interface Refusal {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/** The checks of RFC 6455 §4.2.1 that deserve their own status code; ws checks the key and subprotocols. */
function checkHandshake(request: IncomingMessage): Refusal | undefined {
  if (request.method !== 'GET') {
    return { status: 405, body: { error: 'bad_request', message: 'a WebSocket handshake is a GET' }, headers: { Allow: 'GET' } };
  }
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') {
    return { status: 400, body: { error: 'bad_request', message: 'the Upgrade header must be "websocket"' } };
  }
  if (request.headers['sec-websocket-version'] !== '13') {
    return {
      status: 426,
      body: { error: 'bad_request', message: 'unsupported Sec-WebSocket-Version (13 is)' },
      headers: { 'Sec-WebSocket-Version': '13' },
    };
  }
  return undefined;
}

const dispatchers = new WeakMap<Server, UpgradeDispatcher>();

export function addUpgradeRoute(server: Server, route: UpgradeRoute): void {
  let dispatcher = dispatchers.get(server);
  if (!dispatcher) dispatchers.set(server, (dispatcher = new UpgradeDispatcher(server)));
  dispatcher.add(route);
}

export function removeUpgradeRoute(server: Server, route: UpgradeRoute): void {
  const dispatcher = dispatchers.get(server);
  if (dispatcher?.remove(route)) dispatchers.delete(server);
}

function pathOf(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}
