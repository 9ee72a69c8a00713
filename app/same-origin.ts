import type { FastifyRequest } from 'fastify';

/**
 * True when the request's Origin header names this server (scheme and
 * host:port as the client addressed it). Browsers always send Origin on
 * cross-origin POSTs, so a mismatch means another site made the request.
 */
export function isSameOrigin(request: FastifyRequest, { required }: { required: boolean }): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return !required;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return url.protocol === `${request.protocol}:` && url.host === request.host;
}
