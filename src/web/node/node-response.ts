import type { IncomingMessage, ServerResponse } from 'node:http';
import { PayloadTooLargeError } from '../../core/errors.js';
import { isStream, type WebResponse } from '../core/web-response.js';
import { flattenHeaders, webRequest, type WebRequest } from '../core/web-request.js';
import { nodeSseWriter } from './node-sse-writer.js';

/** Largest body `request.body()` reads from a node request unless told otherwise. */
const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The neutral view of a node:http request; `native` is what the framework handed us (express's req, or req itself).
 * `body()` throws PayloadTooLargeError past `bodyLimit` bytes.
 */
export function nodeWebRequest(req: IncomingMessage, native: unknown = req, bodyLimit = BODY_LIMIT_BYTES): WebRequest {
  return webRequest({
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: flattenHeaders(req.headers),
    remoteAddress: req.socket?.remoteAddress,
    native,
    body: () => readBody(req, bodyLimit),
  });
}

/**
 * Writes a core answer on a node:http response. Headers set earlier (cookies,
 * CORS, security headers of other middleware) are kept: writeHead merges them.
 */
export function writeNodeResponse(res: ServerResponse, response: WebResponse): void {
  if (res.destroyed) {
    // The client left while the route worked: a stream still runs once, to release what it holds.
    if (isStream(response)) void response.stream(nodeSseWriter(res));
    return;
  }
  if (!isStream(response)) {
    res.writeHead(response.status, response.headers);
    res.end(response.body);
    return;
  }
  res.writeHead(response.status, { ...response.headers, connection: 'keep-alive' });
  void response.stream(nodeSseWriter(res));
}

async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) throw new PayloadTooLargeError('the request body', size, limit);
    chunks.push(buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
