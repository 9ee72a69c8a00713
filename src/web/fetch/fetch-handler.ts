import { WebCore } from '../core/web-core.js';
import { headersOf, webRequest, type WebRequest } from '../core/web-request.js';
import { errorReply, isStream, type WebResponse } from '../core/web-response.js';
import { NodeMount } from '../node/node-handler.js';
import type { AttachableServer } from '../node/upgrade-dispatcher.js';
import type { ErrandWebOptions } from '../options.js';
import { streamSseWriter } from './stream-sse-writer.js';

/** errand's routes as a Fetch API handler: Request in, Response out (SSE as a ReadableStream body). */
export interface ErrandFetch {
  /** Answers errand's routes, and any other path with a JSON 404 (a Next.js route handler, Bun.serve's fetch). */
  fetch(request: Request): Promise<Response>;
  /** The Response for errand's routes, undefined for any other path (to fall through to other handlers). */
  handle(request: Request): Promise<Response | undefined>;
  /** Serves errand's WebSocket route on a node:http server (@hono/node-server's serve() returns one). */
  attach(server: AttachableServer): void;
  /** Ends open SSE streams and WebSockets, detaches and releases the status hub. */
  close(): Promise<void>;
}

/** An ErrandFetch whose `handle` can also say what `request.native` is (Hono's Context). */
export interface FetchAdapter extends ErrandFetch {
  handle(request: Request, native?: unknown): Promise<Response | undefined>;
}

export function fetchAdapter(core: WebCore): FetchAdapter {
  const mount = new NodeMount(core);
  const handle = async (request: Request, native: unknown = request): Promise<Response | undefined> => {
    const view = fetchWebRequest(request, native);
    const pending = core.handle(view);
    if (!pending) return undefined;
    return toResponse(await pending, request);
  };
  return {
    handle,
    async fetch(request: Request) {
      return (
        (await handle(request)) ??
        toResponse(errorReply(404, { error: 'not_found', message: 'no errand route at this path' }), request)
      );
    },
    attach: (server) => mount.attach(server),
    close: () => mount.close(),
  };
}

/**
 * The Fetch API adapter, for any runtime with Request and Response: Hono
 * (see errandHono), Next.js route handlers, Bun.serve, Deno.serve. It needs no
 * framework. WebSocket upgrades are node:http's (`attach`); elsewhere the
 * browser client falls back to SSE.
 */
export function createErrandFetch(options: ErrandWebOptions): ErrandFetch {
  return fetchAdapter(new WebCore(options, 'createErrandFetch'));
}

export function fetchWebRequest(request: Request, native: unknown = request): WebRequest {
  const url = new URL(request.url);
  return webRequest({
    method: request.method,
    url: url.pathname + url.search,
    headers: headersOf(request.headers),
    remoteAddress: remoteAddressOf(native),
    native,
    body: async () => new Uint8Array(await request.arrayBuffer()),
  });
}

function toResponse(response: WebResponse, request: Request): Response {
  if (!isStream(response)) {
    const empty = response.body === undefined || request.method === 'HEAD' || response.status === 204 || response.status === 304;
    return new Response(empty ? null : response.body, { status: response.status, headers: response.headers });
  }
  const { writer, stream } = streamSseWriter(request.signal);
  void response.stream(writer);
  return new Response(stream, { status: response.status, headers: response.headers });
}

/**
 * The client's address where the runtime tells it: Hono's Context on
 * @hono/node-server carries the IncomingMessage as env.incoming. A bare Fetch
 * Request says nothing (undefined).
 */
function remoteAddressOf(native: unknown): string | undefined {
  const env = (native as { env?: { incoming?: { socket?: { remoteAddress?: unknown } } } } | undefined)?.env;
  const address = env?.incoming?.socket?.remoteAddress;
  return typeof address === 'string' ? address : undefined;
}
