import { TaskNotFoundError } from '../../core/errors.js';
import type { StatusEvent } from '../../status/status-event.js';
import type { StatusHub } from '../../status/status-hub.js';
import type { StatusSubscription } from '../../status/status-subscription.js';
import { Heartbeat } from '../core/heartbeat.js';
import { closeSoon, type WsPeer, type WsSession } from '../core/websocket.js';

/** Close codes the client can act on (4xxx is the application range). */
export const CLOSE_DONE = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_UNAVAILABLE = 1011;
export const CLOSE_BAD_ID = 4400;
export const CLOSE_NOT_FOUND = 4404;
export const CLOSE_GONE = 4410;

/** Above this many unsent bytes a client is slow: intermediate versions are skipped. */
const HIGH_WATER_BYTES = 64 * 1024;
const DRAIN_POLL_MS = 25;

export interface WsSessionOptions {
  hub: StatusHub;
  heartbeatMs: number;
  /** Registers the session for shutdown; returns the function that forgets it. */
  track(close: () => void): () => void;
  /** The JSON of one event as this client may see it (as a string or its UTF-8 bytes). */
  encode(event: StatusEvent): string | Uint8Array;
  log(error: unknown, message: string): void;
}

/**
 * One socket watching one task, as the Django Channels tutorial's TaskStatusConsumer: the current
 * state on connect, then every update as a status JSON text message, and a
 * close with 1000 after the terminal one. States: subscribing → streaming →
 * closed (1000 done, 4404 unknown id, 4410 task expired, 1011 broker
 * unreadable, 1001 server closing). `done` settles when the session ends.
 */
export class StatusWsSession implements WsSession {
  readonly done: Promise<void>;
  private subscription?: StatusSubscription;
  private ended = false;
  private readonly heartbeat: Heartbeat;
  private readonly forget: () => void;

  constructor(
    private readonly peer: WsPeer,
    taskId: string,
    private readonly options: WsSessionOptions,
  ) {
    this.forget = options.track(() => closeSoon(peer, CLOSE_GOING_AWAY, 'server closing'));
    this.heartbeat = new Heartbeat(peer, options.heartbeatMs);
    this.done = this.run(taskId).catch((error: unknown) => {
      options.log(error, 'errand: WebSocket session failed');
      peer.terminate();
    });
  }

  message(): void {
    // Nothing to receive; the adapter bounds message size (MAX_PAYLOAD_BYTES).
  }

  pong(): void {
    this.heartbeat.pong();
  }

  closed(): void {
    if (this.ended) return;
    this.ended = true;
    this.heartbeat.stop();
    this.forget();
    this.subscription?.close();
  }

  private async run(taskId: string): Promise<void> {
    const { peer } = this;
    try {
      this.subscription = await this.options.hub.subscribe(taskId);
    } catch (error) {
      if (error instanceof TaskNotFoundError) peer.close(CLOSE_NOT_FOUND, 'task not found');
      else peer.close(CLOSE_UNAVAILABLE, 'status unavailable');
      return;
    }
    const subscription = this.subscription;
    if (this.ended || !peer.open) return subscription.close();

    for (;;) {
      let event = await subscription.next();
      if (!event) break;
      if (!event.terminal && peer.bufferedAmount > HIGH_WATER_BYTES) {
        await drained(peer);
        event = subscription.poll() ?? event;
      }
      if (!peer.open) return;
      const json = this.options.encode(event);
      if (event.terminal) return this.finish(event, json);
      peer.send(json);
    }
    if (subscription.endReason === 'gone') peer.close(CLOSE_GONE, 'task expired');
    else if (peer.open) peer.close(CLOSE_GOING_AWAY, 'server closing');
  }

  /**
   * The terminal update, then the close (1000). While the hub still has
   * updates going out (this task's other subscribers, or other tasks'), only
   * the update is sent now and the close waits until they are all out: the
   * closing handshake costs both ends more than the update, and would delay
   * the update to the rest of a large fan-out. Otherwise the two leave in one
   * write.
   */
  private finish(event: StatusEvent, json: string | Uint8Array): Promise<void> | undefined {
    const { peer } = this;
    if (!event.fanningOut) {
      if (peer.sendAndClose) peer.sendAndClose(json, CLOSE_DONE, 'done');
      else {
        peer.send(json);
        peer.close(CLOSE_DONE, 'done');
      }
      return undefined;
    }
    peer.send(json);
    return new Promise((resolve) =>
      event.afterFanOut(() => {
        try {
          if (peer.open) peer.close(CLOSE_DONE, 'done');
        } catch (error) {
          this.options.log(error, 'errand: closing a WebSocket failed');
          peer.terminate();
        }
        resolve();
      }),
    );
  }
}

/** A socket no session owns (a bad id): close it, and drop it if the client never answers the close. */
export function refusingSession(peer: WsPeer, code: number, reason: string): WsSession {
  closeSoon(peer, code, reason);
  return { message() {}, pong() {}, closed() {} };
}

/** Not every WebSocket has a drain event: poll bufferedAmount until the client caught up or left. */
async function drained(peer: WsPeer): Promise<void> {
  while (peer.open && peer.bufferedAmount > HIGH_WATER_BYTES / 2) {
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
}
