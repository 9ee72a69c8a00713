import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Django's names, so the page script reads like the Django + Celery tutorial's. */
export const CSRF_COOKIE = 'csrftoken';
export const CSRF_HEADER = 'x-csrftoken';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** 32 random bytes: unguessable, so a cross-site page cannot forge the header. */
export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Double-submit cookie: keeps the visitor's token (or issues one) and sets
 * the cookie. Not HttpOnly, because the page script must copy it into the
 * X-CSRFToken header; SameSite=Strict keeps other sites from sending it.
 */
export function issueCsrfCookie(request: FastifyRequest, reply: FastifyReply): string {
  const current = request.cookies[CSRF_COOKIE];
  const token = current !== undefined && TOKEN_PATTERN.test(current) ? current : newCsrfToken();
  reply.setCookie(CSRF_COOKIE, token, { path: '/', sameSite: 'strict', httpOnly: false, maxAge: 60 * 60 * 24 * 365 });
  return token;
}

/** True when the header carries the same well-formed token as the cookie. */
export function csrfTokenMatches(request: FastifyRequest): boolean {
  const cookie = request.cookies[CSRF_COOKIE];
  const header = request.headers[CSRF_HEADER];
  if (typeof cookie !== 'string' || typeof header !== 'string') return false;
  if (!TOKEN_PATTERN.test(cookie) || !TOKEN_PATTERN.test(header)) return false;
  return timingSafeEqual(Buffer.from(cookie), Buffer.from(header));
}
