import { PayloadTooLargeError } from '../core/errors.js';
import { headersOf, webRequest } from '../web/core/web-request.js';
import type { WebhookReceiver } from './receiver.js';

/**
 * A receiver as a Fetch handler: Hono (`web.post('/hooks', (c) => handler(c.req.raw))`),
 * Next.js route handlers (`export const POST = handler`), Bun.serve. It reads
 * the raw body, at most the receiver's maxBodyBytes of it.
 */
export function webhookFetchHandler(receiver: WebhookReceiver): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const reply = await receiver(
      webRequest({
        method: request.method,
        url: url.pathname + url.search,
        headers: headersOf(request.headers),
        native: request,
        body: () => readLimited(request, receiver.maxBodyBytes),
      }),
    );
    return new Response(reply.body ?? null, { status: reply.status, headers: reply.headers });
  };
}

/** Stops at `limit` bytes instead of buffering whatever a chunked body sends. */
async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new PayloadTooLargeError('the request body', size, limit);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
