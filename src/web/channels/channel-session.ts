import type { ChannelLayer, ChannelMessage } from '../../channels/channel-layer.js';
import { closeSoon, type WsPeer, type WsSession } from '../core/websocket.js';
import { Heartbeat } from '../core/heartbeat.js';
import { CHANNEL_CLOSE, type AnyChannelRoute, type ChannelSocket } from './channel-route.js';
import { decodeInbound } from './inbound.js';

/** Above this many unsent bytes a client is slow: its channel buffer fills and drops its oldest messages. */
const HIGH_WATER_BYTES = 64 * 1024;
const DRAIN_POLL_MS = 25;
/** Incoming messages waiting for onMessage before the client is told it sends too fast. */
const MAX_PENDING = 32;

export interface ChannelSessionSetup {
  route: AnyChannelRoute;
  params: unknown;
  /** The group joined and the channel that receives it (both or neither). */
  membership?: { layer: ChannelLayer; group: string; channel: string };
  request: ChannelSocket['request'];
  maxMessageBytes: number;
  heartbeatMs: number;
  track(close: () => void): () => void;
  log(error: unknown, message: string): void;
}

/**
 * One client on a channel route. States: open (group messages pumped to the
 * client, its messages handled one at a time) → closed (any side; the channel
 * is closed, which leaves the group). Never buffers without bound: the
 * channel's mailbox drops its oldest message while the client is backed up.
 */
export class ChannelWsSession implements WsSession {
  private readonly stop = new AbortController();
  private readonly socket: ChannelSocket<unknown>;
  private readonly forget: () => void;
  private readonly heartbeat: Heartbeat;
  private pending = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly peer: WsPeer,
    private readonly setup: ChannelSessionSetup,
  ) {
    this.forget = setup.track(() => this.end(CHANNEL_CLOSE.goingAway, 'server closing'));
    this.socket = this.socketApi();
    this.heartbeat = new Heartbeat(peer, setup.heartbeatMs);
    if (setup.membership) void this.pump(setup.membership);
    if (setup.route.onConnect) this.guarded(() => setup.route.onConnect!(this.socket), 'onConnect');
  }

  message(data: unknown, binary = false): void {
    if (this.stop.signal.aborted) return;
    const { route, params, maxMessageBytes } = this.setup;
    const inbound = decodeInbound(data, binary, maxMessageBytes);
    if (!inbound.ok) return this.end(inbound.code, inbound.reason);
    let message: unknown = inbound.message;
    if (route.parse) {
      try {
        message = route.parse(inbound.message, params);
      } catch {
        message = undefined;
      }
      if (message === undefined) return this.end(CHANNEL_CLOSE.badMessage, 'message refused');
    }
    const onMessage = route.onMessage;
    if (!onMessage) return;
    if (this.pending >= MAX_PENDING) return this.end(CHANNEL_CLOSE.tooMany, 'too many messages');
    this.pending++;
    // One at a time, so one client's messages reach the group in the order it sent them.
    this.queue = this.queue.then(async () => {
      if (!this.stop.signal.aborted) await this.guardedAsync(() => onMessage(message, this.socket), 'onMessage');
      this.pending--;
    });
  }

  pong(): void {
    this.heartbeat.pong();
  }

  closed(): void {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    this.heartbeat.stop();
    this.forget();
    const membership = this.setup.membership;
    if (membership) void membership.layer.closeChannel(membership.channel).catch(() => undefined);
  }

  /** Group messages to the client; while it is backed up the mailbox, not memory, absorbs them. */
  private async pump({ layer, channel }: NonNullable<ChannelSessionSetup['membership']>): Promise<void> {
    try {
      for await (const message of layer.receive(channel, { signal: this.stop.signal })) {
        if (this.peer.bufferedAmount > HIGH_WATER_BYTES) await this.drained();
        if (!this.peer.open) break;
        this.peer.send(JSON.stringify(message));
      }
    } catch (error) {
      this.setup.log(error, 'errand: channel socket failed');
      this.end(CHANNEL_CLOSE.failed, 'channel failed');
    }
  }

  private socketApi(): ChannelSocket<unknown> {
    const { peer, setup } = this;
    return {
      params: setup.params,
      group: setup.membership?.group,
      request: setup.request,
      signal: this.stop.signal,
      send: (message: ChannelMessage) => {
        if (!peer.open || peer.bufferedAmount > HIGH_WATER_BYTES) return false;
        peer.send(JSON.stringify(message));
        return true;
      },
      groupSend: async (message: ChannelMessage) => {
        const membership = setup.membership;
        if (!membership) throw new Error(`${setup.route.path} has no group`);
        await membership.layer.groupSend(membership.group, message);
      },
      close: (code = 1000, reason = '') => this.end(code, reason),
    };
  }

  private guarded(run: () => void | Promise<void>, what: string): void {
    void this.guardedAsync(run, what);
  }

  /** A handler that throws (or a layer that is down) closes this socket with 1011, never the process. */
  private async guardedAsync(run: () => void | Promise<void>, what: string): Promise<void> {
    try {
      await run();
    } catch (error) {
      if (this.stop.signal.aborted) return;
      this.setup.log(error, `errand: channel route ${what} failed`);
      this.end(CHANNEL_CLOSE.failed, `${what} failed`);
    }
  }

  private end(code: number, reason: string): void {
    if (this.peer.open) closeSoon(this.peer, code, reason);
    this.closed();
  }

  private async drained(): Promise<void> {
    while (this.peer.open && this.peer.bufferedAmount > HIGH_WATER_BYTES / 2) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }
}
