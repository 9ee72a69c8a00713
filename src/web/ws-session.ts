import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { TaskNotFoundError } from '../core/errors.js';
import type { StatusHub } from '../status/status-hub.js';
import type { StatusSubscription } from '../status/status-subscription.js';

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
}

/**
 * One socket watching one task, as the seeds' TaskStatusConsumer: the current
 * state on connect, then every update as a status JSON text message, and a
 * close with 1000 after the terminal one. States: subscribing → streaming →
 * closed (1000 done, 4404 unknown id, 4410 task expired, 1001 server closing).
 */
export async function runWsSession(ws: WebSocket, taskId: string, options: WsSessionOptions): Promise<void> {
  let subscription: StatusSubscription | undefined;
  let alive = true;
  const shutdown = (): void => {
    ws.close(CLOSE_GOING_AWAY, 'server closing');
    setTimeout(() => ws.terminate(), 1000).unref(); // do not wait on a client that never answers the close
  };
  const forget = options.track(shutdown);
  // A client that stops answering pings is gone (half-open TCP): drop it.
  const heartbeat = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return; // ping() throws once closing
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, options.heartbeatMs);
  ws.on('pong', () => (alive = true));
  ws.on('error', () => ws.terminate());
  ws.on('message', () => undefined); // nothing to receive; maxPayload bounds it
  ws.once('close', () => {
    clearInterval(heartbeat);
    forget();
    subscription?.close();
  });

  try {
    subscription = await options.hub.subscribe(taskId);
  } catch (error) {
    if (error instanceof TaskNotFoundError) ws.close(CLOSE_NOT_FOUND, 'task not found');
    else ws.close(CLOSE_UNAVAILABLE, 'status unavailable');
    return;
  }
  if (ws.readyState !== ws.OPEN) return subscription.close();

  for (;;) {
    let event = await subscription.next();
    if (!event) break;
    if (!event.terminal && ws.bufferedAmount > HIGH_WATER_BYTES) {
      await drained(ws);
      event = subscription.poll() ?? event;
    }
    if (ws.readyState !== ws.OPEN) return;
    if (event.terminal) return sendFinal(ws, event.json);
    ws.send(event.json);
  }
  if (subscription.endReason === 'gone') ws.close(CLOSE_GONE, 'task expired');
  else if (ws.readyState === ws.OPEN) ws.close(CLOSE_GOING_AWAY, 'server closing');
}

/**
 * Sends the terminal status and the close frame in one write (one syscall
 * instead of two per socket, which dominates a 10,000-socket fan-out). The
 * TCP socket is ws's private `_socket`; without it, two writes it is.
 */
function sendFinal(ws: WebSocket, json: string): void {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  socket?.cork();
  ws.send(json);
  ws.close(CLOSE_DONE, 'done');
  if (socket) process.nextTick(() => socket.uncork());
}

/** ws has no drain event of its own: poll bufferedAmount until the client caught up or left. */
async function drained(ws: WebSocket): Promise<void> {
  while (ws.readyState === ws.OPEN && ws.bufferedAmount > HIGH_WATER_BYTES / 2) {
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
}
