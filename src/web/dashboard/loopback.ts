import type { WebRequest } from '../core/web-request.js';

/** Headers a reverse proxy adds: behind one, the socket's loopback peer is the proxy, not the user. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms; false for anything else, and for undefined. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const bare = address.toLowerCase().replace(/^::ffff:/, '');
  return bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** A host name `listen` would bind to loopback only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host.replace(/^\[|\]$/g, ''));
}

/**
 * The secure default's test: a loopback peer that no proxy forwarded, asking
 * for a loopback Host (so a DNS-rebound page of another site, whose requests
 * name that site's host, gets nothing).
 */
export function isLocalRequest(request: WebRequest): boolean {
  if (PROXY_HEADERS.some((name) => request.headers[name] !== undefined)) return false;
  const host = request.headers.host ?? '';
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return isLoopbackHost(hostname) && isLoopbackAddress(request.remoteAddress);
}
