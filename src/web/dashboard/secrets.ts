import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { WebRequest } from '../core/web-request.js';

/** Compares two secrets in constant time (hashed first, so their lengths leak nothing either). */
export function sameSecret(a: string, b: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** 32 random bytes, hex: CSRF tokens. */
export function randomToken(): string {
  return randomBytes(32).toString('hex');
}

/** The login cookie's value for a token: proves the token was given without storing it in the browser. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('errand-dashboard-login').digest('hex');
}

/** Whether the request came over TLS (directly or by a proxy that says so): cookies get `Secure` then. */
export function isHttps(request: WebRequest): boolean {
  if (request.headers['x-forwarded-proto']?.split(',')[0]?.trim() === 'https') return true;
  const native = request.native as { socket?: { encrypted?: boolean }; raw?: { socket?: { encrypted?: boolean } } } | undefined;
  return native?.socket?.encrypted === true || native?.raw?.socket?.encrypted === true;
}

/** A Set-Cookie value: HttpOnly, SameSite=Strict, scoped to the dashboard's path. */
export function cookie(request: WebRequest, name: string, value: string, path: string, maxAgeSeconds?: number): string {
  const parts = [`${name}=${value}`, `Path=${path}`, 'HttpOnly', 'SameSite=Strict'];
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
  if (isHttps(request)) parts.push('Secure');
  return parts.join('; ');
}
