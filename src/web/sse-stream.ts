import type { ServerResponse } from 'node:http';
import type { StatusEvent } from '../status/status-event.js';
import type { StatusSubscription } from '../status/status-subscription.js';
import type { Sessions } from './sessions.js';

export interface SseStreamOptions {
  heartbeatMs: number;
  sessions: Sessions;
}

/**
 * Writes a subscription to an SSE response until the terminal event, the
 * client leaving, or the server closing; heartbeat comments keep proxies from
 * timing the stream out and reveal dead clients.
 */
export async function streamStatus(
  res: ServerResponse,
  subscription: StatusSubscription,
  options: SseStreamOptions,
): Promise<void> {
  const stop = (): void => subscription.close();
  const forget = options.sessions.add(stop);
  res.on('close', stop);
  res.on('error', stop); // a write to a vanished client must not become an uncaught error
  const heartbeat = setInterval(() => {
    if (!res.writableEnded && !res.destroyed) res.write(': heartbeat\n\n');
  }, options.heartbeatMs);
  try {
    for (;;) {
      let event = await subscription.next();
      if (!event) break;
      if (!event.terminal && res.writableNeedDrain) {
        // A slow client: wait, and then send the newest version instead of the backlog.
        await drained(res);
        event = subscription.poll() ?? event;
      }
      if (res.destroyed || res.writableEnded) break;
      res.write(frame(event));
      if (event.terminal) break;
    }
  } finally {
    clearInterval(heartbeat);
    forget();
    res.off('close', stop);
    subscription.close();
    // keep the 'error' listener: a late socket error after end() must stay handled
    res.end();
  }
}

function frame(event: StatusEvent): string {
  return `id: ${event.version}\ndata: ${event.json}\n\n`;
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
