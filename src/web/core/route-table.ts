import type { WebRequest } from './web-request.js';
import { safeDecode } from './web-request.js';
import type { WebResponse } from './web-response.js';
import type { WsAdmission } from './websocket.js';

export type RouteParams = Readonly<Record<string, string>>;

/** An HTTP route. `path` uses ':name' segments, as Fastify, Express and Hono do. */
export interface HttpRoute {
  methods: readonly string[];
  path: string;
  /** Also match the path with its trailing slash toggled (frameworks that add or strip one). */
  optionalTrailingSlash?: boolean;
  handle(request: WebRequest, params: RouteParams): Promise<WebResponse>;
}

/** A WebSocket route: decides before the handshake (see WsAdmission). */
export interface WsRoute {
  path: string;
  /** Also match the path with its trailing slash toggled. */
  optionalTrailingSlash?: boolean;
  /** Largest message the client may send, enforced while reading frames (default MAX_PAYLOAD_BYTES). */
  maxPayloadBytes?: number;
  admit(request: WebRequest, params: RouteParams): Promise<WsAdmission>;
}

export interface Matched<R> {
  route: R;
  params: RouteParams;
}

interface Compiled<R> {
  route: R;
  pattern: RegExp;
  names: string[];
}

/**
 * The routes of one mount (one prefix): status routes today, channel and
 * webhook routes later. Adapters either hand `httpRoutes` to their framework's
 * router (Fastify) or ask `matchHttp` (Express, node:http, Fetch); every
 * adapter asks `matchWs` for upgrades. Paths are matched undecoded and
 * parameters decoded, as Fastify does.
 */
export class RouteTable {
  private readonly http: Array<Compiled<HttpRoute>> = [];
  private readonly ws: Array<Compiled<WsRoute>> = [];

  constructor(readonly prefix: string) {}

  get httpRoutes(): readonly HttpRoute[] {
    return this.http.map((entry) => entry.route);
  }

  get wsRoutes(): readonly WsRoute[] {
    return this.ws.map((entry) => entry.route);
  }

  addHttp(route: HttpRoute): this {
    this.http.push({ route, ...compile(this.prefix + route.path, route.optionalTrailingSlash ?? false) });
    return this;
  }

  addWs(route: WsRoute): this {
    this.ws.push({ route, ...compile(this.prefix + route.path, route.optionalTrailingSlash ?? false) });
    return this;
  }

  /** The route for `method` and `path`, or undefined when the path (or the method) is not one of these routes. */
  matchHttp(method: string, path: string): Matched<HttpRoute> | undefined {
    const upper = method.toUpperCase();
    return find(this.http, path, (route) => route.methods.includes(upper));
  }

  matchWs(path: string): Matched<WsRoute> | undefined {
    return find(this.ws, path, () => true);
  }
}

function find<R>(entries: Array<Compiled<R>>, path: string, accepts: (route: R) => boolean): Matched<R> | undefined {
  for (const entry of entries) {
    const match = entry.pattern.exec(path);
    if (!match || !accepts(entry.route)) continue;
    const params: Record<string, string> = {};
    entry.names.forEach((name, i) => (params[name] = safeDecode(match[i + 1]!)));
    return { route: entry.route, params };
  }
  return undefined;
}

function compile(path: string, optionalTrailingSlash: boolean): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  let source = path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return escapeRegExp(segment);
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  if (optionalTrailingSlash) source = `${source.endsWith('/') ? source.slice(0, -1) : source}/?`;
  return { pattern: new RegExp(`^${source}$`), names };
}

/** The same path with its trailing slash added or removed. */
export function toggleTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
