import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The reference app has no login: a visitor is a random id in an HttpOnly
 * cookie, standing in for seed 003's "username of the logged-in user". Its
 * tasks carry the tag visitor:<id>, and only a request with that cookie
 * may follow the tag's feed (every tab of one browser shares it).
 */
export const VISITOR_COOKIE = 'errand_visitor';
const VISITOR_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function visitorTag(visitor: string): string {
  return `visitor:${visitor}`;
}

/** The visitor's id, issuing the cookie on a first visit (128 random bits: as unguessable as a session id). */
export function issueVisitor(request: FastifyRequest, reply: FastifyReply): string {
  const current = request.cookies[VISITOR_COOKIE];
  const visitor = current !== undefined && VISITOR_PATTERN.test(current) ? current : randomBytes(16).toString('base64url');
  reply.setCookie(VISITOR_COOKIE, visitor, { path: '/', sameSite: 'lax', httpOnly: true, maxAge: 60 * 60 * 24 * 30 });
  return visitor;
}

/** The visitor id of a request that has a valid cookie, from the raw Cookie header (what every errand route sees). */
export function visitorOf(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === VISITOR_COOKIE && value !== undefined && VISITOR_PATTERN.test(value)) return value;
  }
  return undefined;
}

/** errandWeb's feed authorization: a visitor follows their own tag only. */
export function visitorMayFollow(request: { headers: Readonly<Record<string, string | undefined>> }, tag: string): boolean {
  const visitor = visitorOf(request.headers.cookie);
  return visitor !== undefined && tag === visitorTag(visitor);
}
