import { ConfigError } from '../../core/errors.js';
import { checkAuthorized } from '../core/authorize-check.js';
import type { RouteParams, WsRoute } from '../core/route-table.js';
import type { WebRequest } from '../core/web-request.js';
import { foreignOrigin } from '../origin-check.js';
import { refusingSession } from '../routes/ws-session.js';
import type { Sessions } from '../sessions.js';
import { ChannelWsSession } from './channel-session.js';
import { CHANNEL_CLOSE, type AnyChannelRoute, type ChannelRoutesOptions } from './channel-route.js';

const DEFAULT_MAX_MESSAGE_BYTES = 4096;
const LIMIT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** ws reads frames up to this much over the route's limit, so an oversize message gets 4413 rather than ws's 1009. */
const FRAME_SLACK_BYTES = 64 * 1024;
const GROUP = /^[A-Za-z0-9._-]{1,100}$/;

/** What the channel routes of one mount share with its status routes. */
export interface ChannelRouteContext {
  sessions: Sessions;
  heartbeatMs: number;
  allowedOrigins: ReadonlySet<string>;
  log(error: unknown, message: string): void;
}

/** The WsRoutes of `options.channels` (none without it); throws ConfigError on a bad route. */
export function channelWsRoutes(options: ChannelRoutesOptions | undefined, context: ChannelRouteContext): WsRoute[] {
  if (options === undefined) return [];
  if (!Array.isArray(options.routes)) throw new ConfigError('channels.routes must be a list of channel routes');
  return options.routes.map((route) => channelWsRoute(route, options, context));
}

/**
 * Before the handshake: the Origin check (403), the path's parameters (a
 * refused one is accepted and closed with 4400, which says do not retry),
 * authorize (401/403/...), then the group join, so a client that is connected
 * is already in the group. A layer that cannot be reached is a 503.
 */
function channelWsRoute(route: AnyChannelRoute, options: ChannelRoutesOptions, context: ChannelRouteContext): WsRoute {
  if (typeof route?.path !== 'string' || !route.path.startsWith('/'))
    throw new ConfigError('a channel route needs a path starting with /');
  if (route.group && !options.layer) throw new ConfigError(`channel route ${route.path} has a group: channels.layer is needed`);
  const maxMessageBytes = route.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > LIMIT_MAX_MESSAGE_BYTES) {
    throw new ConfigError(`channel route ${route.path}: maxMessageBytes must be an integer from 1 to ${LIMIT_MAX_MESSAGE_BYTES}`);
  }
  const authorize = route.authorize ?? options.authorize;
  return {
    path: route.path,
    optionalTrailingSlash: true,
    maxPayloadBytes: maxMessageBytes + FRAME_SLACK_BYTES,
    async admit(request, raw) {
      const foreign = foreignOrigin(request, context.allowedOrigins);
      if (foreign) return foreign;
      const resolved = resolveParams(route, raw);
      if (!resolved) {
        return { ok: true, open: (peer) => refusingSession(peer, CHANNEL_CLOSE.badParams, 'bad parameters') };
      }
      const { params, group } = resolved;
      if (authorize) {
        const refusal = await checkAuthorized(() => authorize(request, params), 'you may not connect here', context.log);
        if (refusal) return { ok: false, refusal };
      }
      const membership = group === undefined ? undefined : await join(options, group, context);
      if (membership === null) {
        return {
          ok: false,
          refusal: { status: 503, body: { error: 'unavailable', message: 'the channel layer is unavailable; try again' } },
        };
      }
      return {
        ok: true,
        open: (peer) => new ChannelWsSession(peer, sessionSetup(route, request, params, membership, maxMessageBytes, context)),
        abandon: () => void membership?.layer.closeChannel(membership.channel).catch(() => undefined),
      };
    },
  };
}

function resolveParams(route: AnyChannelRoute, raw: RouteParams): { params: unknown; group?: string } | undefined {
  try {
    const params = route.params ? route.params(raw) : raw;
    if (params === undefined) return undefined;
    if (!route.group) return { params };
    const group = route.group(params);
    return typeof group === 'string' && GROUP.test(group) ? { params, group } : undefined;
  } catch {
    return undefined;
  }
}

/** A fresh channel in `group`; null when the layer failed. */
async function join(options: ChannelRoutesOptions, group: string, context: ChannelRouteContext) {
  const layer = options.layer!;
  let channel: string | undefined;
  try {
    channel = await layer.newChannel('ws');
    await layer.groupAdd(group, channel);
    return { layer, group, channel };
  } catch (error) {
    context.log(error, 'errand: could not join a channel group');
    if (channel !== undefined) await layer.closeChannel(channel).catch(() => undefined);
    return null;
  }
}

function sessionSetup(
  route: AnyChannelRoute,
  request: WebRequest,
  params: unknown,
  membership: Awaited<ReturnType<typeof join>> | undefined,
  maxMessageBytes: number,
  context: ChannelRouteContext,
) {
  return {
    route,
    params,
    membership: membership ?? undefined,
    request,
    maxMessageBytes,
    heartbeatMs: context.heartbeatMs,
    track: (close: () => void) => context.sessions.add(close),
    log: context.log,
  };
}
