import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebCore } from '../core/web-core.js';
import { errorReply } from '../core/web-response.js';
import type { ErrandWebOptions } from '../options.js';
import { nodeWebRequest, writeNodeResponse } from './node-response.js';
import { attachUpgrades, upgradeServer, type AttachableServer } from './upgrade-dispatcher.js';

/**
 * errand's routes for a node:http server. Call it as a request listener, or as
 * Connect/Express middleware (`next` is called for every other path).
 */
export interface ErrandHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Serves `req` if it is on one of errand's routes; resolves false (nothing written) otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Serves errand's WebSocket route on `server` (only its own upgrades; see attachErrandUpgrades). */
  attach(server: AttachableServer): void;
  /**
   * Ends open SSE streams and WebSockets (close 1001), detaches from every server
   * and releases the status hub. Call it before server.close(), which would
   * otherwise wait on the open streams.
   */
  close(): Promise<void>;
}

/** A mount's handler and upgrade attachments, closed together. */
export class NodeMount {
  private readonly detaches = new Set<() => void>();

  constructor(readonly core: WebCore) {}

  /** Answers `req` and resolves true, or resolves false when it is not errand's. */
  async handle(req: IncomingMessage, res: ServerResponse, native: unknown = req): Promise<boolean> {
    const request = nodeWebRequest(req, native);
    const pending = this.core.handle(request);
    if (!pending) return false;
    const response = await pending;
    writeNodeResponse(res, response);
    return true;
  }

  attach(server: AttachableServer): void {
    const detach = attachUpgrades(upgradeServer(server), this.core);
    const forget = (): void => {
      detach();
      this.detaches.delete(forget);
    };
    this.detaches.add(forget);
    server.once('close', forget);
  }

  async close(): Promise<void> {
    for (const detach of [...this.detaches]) detach();
    await this.core.close();
  }
}

/**
 * The node:http adapter: poll and SSE as a request handler. For the WebSocket
 * route, call `handler.attach(server)` (or attachErrandUpgrades).
 *
 *   const errand = createErrandHandler({ app });
 *   const server = http.createServer((req, res) => errand(req, res, () => notFound(res)));
 *   errand.attach(server);
 */
export function createErrandHandler(options: ErrandWebOptions): ErrandHandler {
  return nodeHandler(new NodeMount(new WebCore(options, 'createErrandHandler')));
}

export function nodeHandler(mount: NodeMount, native?: (req: IncomingMessage) => unknown): ErrandHandler {
  const handler = ((req, res, next) => {
    mount.handle(req, res, native ? native(req) : req).then(
      (handled) => {
        if (handled) return;
        if (next) return next();
        writeNodeResponse(res, errorReply(404, { error: 'not_found', message: 'no errand route at this path' }));
      },
      (error: unknown) => {
        if (next) return next(error);
        if (!res.headersSent) writeNodeResponse(res, errorReply(500, { error: 'internal', message: 'the request failed' }));
        else res.destroy();
      },
    );
  }) as ErrandHandler;
  handler.handle = (req, res) => mount.handle(req, res, native ? native(req) : req);
  handler.attach = (server) => mount.attach(server);
  handler.close = () => mount.close();
  return handler;
}

/** The upgrades of one attachErrandUpgrades call. */
export interface ErrandUpgrades {
  /** Ends its WebSockets (1001), detaches from the server and releases the status hub. */
  close(): Promise<void>;
}

/**
 * Serves errand's WebSocket route ({prefix}/ws/task_status/:id/) on a
 * node:http(s) server, beside any other WebSocket server on it: errand takes
 * only upgrades on its own paths, and answers 404 for other paths only while
 * no other 'upgrade' listener is on the server.
 */
export function attachErrandUpgrades(server: AttachableServer, options: ErrandWebOptions): ErrandUpgrades {
  const mount = new NodeMount(new WebCore(options, 'attachErrandUpgrades'));
  mount.attach(server);
  return { close: () => mount.close() };
}
