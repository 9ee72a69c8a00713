import { Server as HttpServer, type IncomingMessage } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import { Server as HttpsServer } from 'node:https';
import { ConfigError } from '../../core/errors.js';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Refusal } from '../http-errors.js';
import type { Matched, WsRoute } from '../core/route-table.js';
import type { WebCore } from '../core/web-core.js';
import { flattenHeaders, webRequest } from '../core/web-request.js';
import { MAX_PAYLOAD_BYTES } from '../core/websocket.js';
import { rejectUpgrade } from './reject-upgrade.js';
import { feedSession, wsPeer } from './ws-peer.js';

export { MAX_PAYLOAD_BYTES };

/** A server whose WebSocket upgrades errand can serve: node:http or node:https. */
export type UpgradeServer = HttpServer | HttpsServer;

/** What `attach` takes: any server @hono/node-server's serve() may return (HTTP/2 ones are refused: no upgrades there). */
export type AttachableServer = UpgradeServer | Http2Server | Http2SecureServer;

export function upgradeServer(server: AttachableServer): UpgradeServer {
  if (server instanceof HttpServer || server instanceof HttpsServer) return server;
  throw new ConfigError('attach needs a node:http or node:https server: HTTP/2 has no WebSocket upgrade (browsers then use SSE)');
}

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/**
 * errand's WebSocket upgrades on one HTTP server, shared by every mount on it
 * (prefixes '' and '/users', a Fastify registration and a node handler alike).
 *
 * Only its own upgrades: an upgrade on one of errand's paths is taken before
 * any 'upgrade' listener runs (the server's emit is wrapped for that one
 * event), so @fastify/websocket, a ws WebSocketServer({ server }) or a
 * noServer handler never see it and never write to its socket; any other
 * upgrade goes to those listeners untouched. errand keeps one listener of its
 * own, which answers an upgrade on a path nobody serves with a JSON 404 only
 * while it is the server's sole 'upgrade' listener, so with nothing else
 * there no socket is left hanging, and with something else it stays silent.
 *
 * Nothing a client sends may throw out of here: an exception in an 'upgrade'
 * listener, or an 'error' event nobody listens to on a socket, ends the whole
 * process. So the raw socket gets an error listener before anything else,
 * every accepted WebSocket gets one before route code sees it (a malformed
 * frame, e.g. one over MAX_PAYLOAD_BYTES or a bad close code, is an 'error'
 * event from ws's Receiver), and a refused handshake is a JSON HTTP answer.
 */
class UpgradeDispatcher {
  private readonly cores = new Set<WebCore>();
  /** One ws server per message-size limit (ws enforces maxPayload per server); MAX_PAYLOAD_BYTES for the status route. */
  private readonly servers = new Map<number, WebSocketServer>();
  private readonly originalEmit: Emit;
  private readonly hadOwnEmit: boolean;
  private readonly emit: Emit;
  private listening = false;

  constructor(private readonly server: UpgradeServer) {
    const target = server as unknown as { emit: Emit };
    this.hadOwnEmit = Object.prototype.hasOwnProperty.call(server, 'emit');
    this.originalEmit = target.emit;
    const claim = (request: IncomingMessage, socket: Duplex, head: Buffer): boolean => this.claim(request, socket, head);
    const originalEmit = this.originalEmit;
    this.emit = function (this: unknown, event, ...args) {
      if (event === 'upgrade' && claim(args[0] as IncomingMessage, args[1] as Duplex, args[2] as Buffer)) return true;
      return originalEmit.apply(this, [event, ...args]);
    };
    target.emit = this.emit;
  }

  add(core: WebCore): void {
    this.cores.add(core);
    if (this.listening) return;
    // Node hands a request to 'upgrade' only when the server has a listener for it.
    this.server.on('upgrade', this.fallback);
    this.listening = true;
  }

  /** Forgets a mount; returns true once the server is as it was before errand (nothing left to forget). */
  remove(core: WebCore): boolean {
    this.cores.delete(core);
    if (this.cores.size > 0) return false;
    this.server.off('upgrade', this.fallback);
    this.listening = false;
    const target = this.server as unknown as { emit: Emit };
    // Someone wrapped emit after us: ours stays in their chain, passing everything through.
    if (target.emit !== this.emit) return false;
    if (this.hadOwnEmit) target.emit = this.originalEmit;
    else delete (target as { emit?: Emit }).emit;
    for (const wss of this.servers.values()) wss.close();
    this.servers.clear();
    return true;
  }

  private claim(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (this.cores.size === 0) return false;
    const pathname = pathOf(request.url);
    if (pathname === undefined) return false;
    for (const core of this.cores) {
      const matched = core.matchUpgrade(pathname);
      if (!matched) continue;
      socket.on('error', () => socket.destroy());
      try {
        this.serve(core, matched, request, socket, head);
      } catch {
        // A bug of ours, not the client's: refuse this one upgrade rather than lose the process.
        rejectUpgrade(socket, internalError);
      }
      return true;
    }
    return false;
  }

  private serve(core: WebCore, matched: Matched<WsRoute>, request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = checkHandshake(request);
    if (refusal) return rejectUpgrade(socket, refusal);
    const view = webRequest({
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      headers: flattenHeaders(request.headers),
      transport: 'websocket',
      remoteAddress: request.socket?.remoteAddress,
      native: request,
    });
    void core
      .admit(matched, view)
      .then((admission) => {
        if (!admission.ok) return rejectUpgrade(socket, admission.refusal);
        let opened = false;
        // ws completes (or gives up on) the handshake synchronously when there is no verifyClient.
        if (!socket.destroyed) {
          this.serverFor(matched.route.maxPayloadBytes ?? MAX_PAYLOAD_BYTES).handleUpgrade(request, socket, head, (ws) => {
            opened = true;
            guard(ws);
            try {
              feedSession(ws, admission.open(wsPeer(ws)));
            } catch {
              ws.terminate();
            }
          });
        }
        // The client left while admit ran, or ws refused the handshake: let the route release what it took.
        if (!opened) admission.abandon?.();
      })
      .catch(() => rejectUpgrade(socket, internalError));
  }

  private serverFor(maxPayload: number): WebSocketServer {
    let wss = this.servers.get(maxPayload);
    if (wss) return wss;
    wss = new WebSocketServer({
      noServer: true,
      maxPayload,
      perMessageDeflate: false,
      // We speak no subprotocol: never echo the client's Sec-WebSocket-Protocol back as a response header.
      handleProtocols: () => false,
    });
    // Handshakes ws itself refuses (a bad Sec-WebSocket-Key or Sec-WebSocket-Protocol): JSON, like every other refusal.
    wss.on('wsClientError', (error: Error, socket: Duplex) =>
      rejectUpgrade(socket, {
        status: 400,
        body: { error: 'bad_request', message: `bad WebSocket handshake: ${error.message}` },
      }),
    );
    wss.on('error', () => undefined); // a noServer WebSocketServer never listens, but stay safe
    this.servers.set(maxPayload, wss);
    return wss;
  }

  /** Upgrades on paths no mount serves: answered only while errand is the server's sole 'upgrade' listener. */
  private readonly fallback = (_request: IncomingMessage, socket: Duplex): void => {
    if (this.server.listenerCount('upgrade') > 1) return;
    socket.on('error', () => socket.destroy());
    rejectUpgrade(socket, { status: 404, body: { error: 'not_found', message: 'no WebSocket endpoint at this path' } });
  };
}

const internalError: Refusal = { status: 500, body: { error: 'internal', message: 'the WebSocket upgrade failed' } };

/**
 * A protocol error (oversized or reserved frame, unmasked data, a bad close
 * code...) is an 'error' event on the WebSocket: ws has already sent its close
 * frame by then, so drop the connection instead of waiting 30 s for the
 * client's answer. Sessions may add their own listeners; this one is always there.
 */
function guard(ws: WebSocket): void {
  ws.on('error', () => ws.terminate());
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

const dispatchers = new WeakMap<UpgradeServer, UpgradeDispatcher>();

/** Serves `core`'s WebSocket routes on `server`; returns the function that stops it. */
export function attachUpgrades(server: UpgradeServer, core: WebCore): () => void {
  let dispatcher = dispatchers.get(server);
  if (!dispatcher) dispatchers.set(server, (dispatcher = new UpgradeDispatcher(server)));
  dispatcher.add(core);
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    if (dispatcher.remove(core)) dispatchers.delete(server);
  };
}

function pathOf(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}
