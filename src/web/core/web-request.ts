/**
 * What errand's routes (and `authorize`) see of a request, whatever framework
 * received it: the method, the request target, lower-case headers, cookies,
 * and the framework's own request object for anything else.
 */
export interface WebRequest {
  /** 'GET', 'HEAD', ... (upper case). */
  readonly method: string;
  /** The request target as received: path and query, e.g. '/task_status/?task_id=…'. */
  readonly url: string;
  /** The path part of `url`, not decoded. */
  readonly path: string;
  /** The query parameters; a repeated one is an array. */
  readonly query: Readonly<Record<string, string | string[]>>;
  /** Header values by lower-case name (a repeated header joined with ', '). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The cookies of the Cookie header, parsed on first use. */
  readonly cookies: Readonly<Record<string, string>>;
  /** 'http' for poll and SSE requests, 'websocket' for an upgrade (decided before the handshake). */
  readonly transport: 'http' | 'websocket';
  /** The client's address as the adapter saw it (the socket's peer; Fastify's request.ip); undefined when unknown (Fetch). */
  readonly remoteAddress?: string;
  /** Reads the body (empty for an upgrade); for routes that take one, such as webhooks. */
  body(): Promise<Uint8Array>;
  /**
   * The framework's own request: a FastifyRequest, an express Request, Hono's
   * Context (errandHono), a Fetch Request (createErrandFetch: Next.js, Bun), or
   * the node:http IncomingMessage (createErrandHandler, and every WebSocket
   * upgrade, which no framework routes).
   */
  readonly native: unknown;
}

export interface WebRequestInit {
  method: string;
  url: string;
  headers: Readonly<Record<string, string | undefined>>;
  transport?: 'http' | 'websocket';
  remoteAddress?: string | undefined;
  body?: () => Promise<Uint8Array>;
  native: unknown;
}

const noBody = (): Promise<Uint8Array> => Promise.resolve(new Uint8Array(0));

/** Builds the neutral view; the query and the cookies are parsed only when read. */
export function webRequest(init: WebRequestInit): WebRequest {
  const url = init.url || '/';
  const mark = url.indexOf('?');
  const path = mark < 0 ? url : url.slice(0, mark);
  let query: Record<string, string | string[]> | undefined;
  let cookies: Record<string, string> | undefined;
  return {
    method: init.method.toUpperCase(),
    url,
    path,
    headers: init.headers,
    transport: init.transport ?? 'http',
    ...(init.remoteAddress !== undefined ? { remoteAddress: init.remoteAddress } : {}),
    body: init.body ?? noBody,
    native: init.native,
    get query() {
      return (query ??= parseQuery(mark < 0 ? '' : url.slice(mark + 1)));
    },
    get cookies() {
      return (cookies ??= parseCookies(init.headers.cookie));
    },
  };
}

/** Node's IncomingHttpHeaders (values may be arrays) as single strings. */
export function flattenHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  return out;
}

/** A Fetch API Headers object as a plain record. */
export function headersOf(headers: Headers): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
  headers.forEach((value, name) => (out[name] = value));
  return out;
}

function parseQuery(search: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of new URLSearchParams(search)) {
    const seen = out[key];
    if (seen === undefined) out[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else out[key] = [seen, value];
  }
  return out;
}

/** Cookie: a=1; b=2 (RFC 6265 §5.4); the first of repeated names wins, quotes are dropped. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in out) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out[name] = safeDecode(value);
  }
  return out;
}

export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
