import type { WsRoute } from '../core/route-table.js';
import { Heartbeat } from '../core/heartbeat.js';
import { closeSoon, type WsPeer, type WsSession } from '../core/websocket.js';
import type { WebRequest } from '../core/web-request.js';
import { foreignOrigin } from '../origin-check.js';
import { CLOSE_GOING_AWAY, CLOSE_UNAVAILABLE, refusingSession } from '../routes/ws-session.js';
import { feedMessage, type FeedContext } from './feed-context.js';
import { checkFeedAccess, parseCursor, parseTag } from './feed-params.js';
import { FeedStream } from './feed-stream.js';

const CLOSE_BAD_REQUEST = 4400;
/** Above this many unsent bytes the client is slow: wait for it (the feed coalesces per task meanwhile). */
const HIGH_WATER_BYTES = 64 * 1024;
const DRAIN_POLL_MS = 25;

/**
 * WS {prefix}/ws/feeds/:tag/?after=CURSOR — the tag feed over a WebSocket:
 * one text message per entry (the poll route's entry JSON). Before the
 * handshake: the Origin check, then authorize.
 */
export function feedWsRoute(context: FeedContext): WsRoute {
  return {
    path: '/ws/feeds/:tag/',
    optionalTrailingSlash: true,
    async admit(request, params) {
      const foreign = foreignOrigin(request, context.allowedOrigins);
      if (foreign) return foreign;
      const tag = parseTag(params.tag);
      const after = parseCursor(request.query.after, 'after');
      if (!tag.ok || !after.ok)
        return { ok: true, open: (peer) => refusingSession(peer, CLOSE_BAD_REQUEST, 'bad tag or cursor') };
      const refusal = await checkFeedAccess(context, request, tag.value);
      if (refusal) return { ok: false, refusal };
      return {
        ok: true,
        open: (peer) =>
          new FeedWsSession(peer, new FeedStream(context.app, tag.value, after.value, context.log), context, request),
      };
    },
  };
}

class FeedWsSession implements WsSession {
  private readonly heartbeat: Heartbeat;
  private readonly forget: () => void;

  constructor(
    private readonly peer: WsPeer,
    private readonly feed: FeedStream,
    private readonly context: FeedContext,
    private readonly request: WebRequest,
  ) {
    this.forget = context.sessions.add(() => closeSoon(peer, CLOSE_GOING_AWAY, 'server closing'));
    this.heartbeat = new Heartbeat(peer, context.heartbeatMs);
    void this.run().catch((error: unknown) => {
      context.log(error, 'errand: a feed WebSocket failed');
      peer.terminate();
    });
  }

  message(): void {
    // nothing to receive; the adapter bounds message size
  }

  pong(): void {
    this.heartbeat.pong();
  }

  closed(): void {
    this.heartbeat.stop();
    this.forget();
    this.feed.close();
  }

  private async run(): Promise<void> {
    for await (const entry of this.feed) {
      if (!this.peer.open) return;
      this.peer.send(JSON.stringify(feedMessage(this.context, entry, this.request)));
      while (this.peer.open && this.peer.bufferedAmount > HIGH_WATER_BYTES) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      }
    }
    // the feed only ends by itself on a broker error
    if (this.peer.open && !this.feed.closed) this.peer.close(CLOSE_UNAVAILABLE, 'feed unavailable');
  }
}
