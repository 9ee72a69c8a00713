import { ConfigError } from '../core/errors.js';
import type { WebRequest } from './core/web-request.js';
import type { WsAdmission } from './core/websocket.js';

/** Normalises configured origins ('https://example.com') so they compare equal to an Origin header. */
export function normaliseOrigins(origins: readonly string[] = []): Set<string> {
  return new Set(
    origins.map((origin) => {
      try {
        return new URL(origin).origin;
      } catch {
        throw new ConfigError(`allowedOrigins: "${origin}" is not an origin like https://example.com`);
      }
    }),
  );
}

/**
 * Guards WebSockets against cross-site hijacking: a browser always sends
 * Origin, and a page on another site must not open a socket with the user's
 * cookies. Allowed: the request's own host, or a listed origin. A request
 * without Origin comes from a non-browser client, which cannot ride on a
 * user's cookies, so it is allowed; the opaque origin "null" is not.
 */
export function isOriginAllowed(origin: string | undefined, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // includes "null"
  }
  if (allowed.has(parsed.origin)) return true;
  return host !== undefined && parsed.host === host.toLowerCase();
}

/** The refusal every WebSocket route answers a handshake from a foreign Origin with (403, before anything else), or undefined. */
export function foreignOrigin(request: WebRequest, allowed: ReadonlySet<string>): WsAdmission | undefined {
  if (isOriginAllowed(request.headers.origin, request.headers.host, allowed)) return undefined;
  return {
    ok: false,
    refusal: { status: 403, body: { error: 'forbidden', message: 'this Origin may not open a WebSocket here' } },
  };
}
