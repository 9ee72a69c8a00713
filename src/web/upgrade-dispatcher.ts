import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { rejectUpgrade } from './http-errors.js';

/** Incoming WebSocket messages are ignored; this bounds what a client can make us buffer. */
export const MAX_PAYLOAD_BYTES = 4096;

export interface UpgradeRoute {
  /** Returns the route's parameter (the task id) when the path is this route's, else undefined. */
  match(pathname: string): string | undefined;
  /** Decides before the handshake: return true to accept, or answer on the socket and return false. */
  admit(request: IncomingMessage, socket: Duplex): boolean;
  onConnection(ws: WebSocket, request: IncomingMessage, param: string): void;
}

/**
 * ONE `upgrade` listener per HTTP server, shared by every registration of the
 * plugin (prefixes '' and '/users' on one server): it routes by path and
 * answers any other path with 404, so no upgrade is left hanging.
 */
class UpgradeDispatcher {
  private readonly routes = new Set<UpgradeRoute>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES, perMessageDeflate: false });
  private readonly listener = (request: IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.onUpgrade(request, socket, head);

  constructor(private readonly server: Server) {
    server.on('upgrade', this.listener);
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
    const pathname = pathOf(request.url);
    for (const route of this.routes) {
      const param = pathname === undefined ? undefined : route.match(pathname);
      if (param === undefined) continue;
      if (!route.admit(request, socket)) return;
      this.wss.handleUpgrade(request, socket, head, (ws) => route.onConnection(ws, request, param));
      return;
    }
    rejectUpgrade(socket, 404, { error: 'not_found', message: 'no WebSocket endpoint at this path' });
  }
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
