import type { ChannelLayer, ChannelMessage } from '../../channels/channel-layer.js';
import type { JsonValue } from '../../core/types.js';
import type { RouteParams } from '../core/route-table.js';
import type { WebRequest } from '../core/web-request.js';

/** Close codes of a channel socket (4xxx is the application range; do not retry on 44xx). */
export const CHANNEL_CLOSE = Object.freeze({
  /** The server is shutting down: reconnect later. */
  goingAway: 1001,
  /** The route's handler failed, or the channel layer could not be reached. */
  failed: 1011,
  /** The path's parameters were refused (e.g. a room name that is not `\w{1,50}`). */
  badParams: 4400,
  /** A message over the route's `maxMessageBytes`. */
  tooLarge: 4413,
  /** A message that is not a JSON object in a text frame, or that `parse` refused. */
  badMessage: 4422,
  /** The client sent faster than its messages could be handled. */
  tooMany: 4429,
});

/** What a route's handlers get for one connected client. */
export interface ChannelSocket<P = RouteParams> {
  readonly params: P;
  /** The group this socket joined (the route's `group`), if any. */
  readonly group: string | undefined;
  readonly request: WebRequest;
  /** Aborted when the socket closes: pass it to timers and loops started in onConnect. */
  readonly signal: AbortSignal;
  /** Sends to this client; false when skipped because the client is slow (or gone). */
  send(message: ChannelMessage): boolean;
  /** Sends to every member of this socket's group, in every process (throws without a group). */
  groupSend(message: ChannelMessage): Promise<void>;
  close(code?: number, reason?: string): void;
}

/**
 * A WebSocket route on the channel layer, as a Django Channels consumer: the
 * socket joins `group` before the handshake completes and leaves it on close;
 * every group message is sent to it as JSON; each message it sends is
 * size-checked, JSON-parsed, `parse`d and handed to `onMessage`, one at a time.
 */
export interface ChannelRoute<P = RouteParams, M = JsonValue> {
  /** ':name' segments, e.g. '/ws/chat/:room/' (the trailing slash is optional). */
  path: string;
  /** Checks and converts the path's parameters; undefined closes the socket with 4400. */
  params?(raw: RouteParams): P | undefined;
  /** The group to join, e.g. `chat_${room}` (1–100 of A-Z a-z 0-9 . _ -; another name closes with 4400). */
  group?(params: P): string;
  /** Who may connect, before the handshake (instead of the mount-wide `authorize`). */
  authorize?(request: WebRequest, params: P): boolean | Promise<boolean>;
  /** Validates one incoming JSON message; undefined (or a throw) closes the socket with 4422. */
  parse?(message: JsonValue, params: P): M | undefined;
  /** Runs once the socket is open (e.g. a live feed sending with socket.send). */
  onConnect?(socket: ChannelSocket<P>): void | Promise<void>;
  /** Handles one validated message; without it incoming messages are ignored (still size-checked). */
  onMessage?(message: M, socket: ChannelSocket<P>): void | Promise<void>;
  /** Largest incoming message in bytes (default 4096, at most 1 MiB); bigger closes with 4413. */
  maxMessageBytes?: number;
}

/** Any route, whatever its parameter and message types (what `routes` holds). */
// Method syntax above makes ChannelRoute<P, M> assignable to this.
export type AnyChannelRoute = ChannelRoute<unknown, unknown>;

/** Keeps a route's types while it is written, then lets it join a `routes` list. */
export function channelRoute<P = RouteParams, M = JsonValue>(route: ChannelRoute<P, M>): AnyChannelRoute {
  return route;
}

/** `channels` in ErrandWebOptions: WebSocket routes on a channel layer, served by every adapter. */
export interface ChannelRoutesOptions {
  /** Needed when a route has a `group`. */
  layer?: ChannelLayer;
  routes: readonly AnyChannelRoute[];
  /** Who may connect to a route without its own `authorize`; default: anyone (after the Origin check). */
  authorize?(request: WebRequest, params: unknown): boolean | Promise<boolean>;
}
