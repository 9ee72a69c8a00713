import { countSubscriber } from '../../core/process-stats.js';
import type { StatusEvent } from '../../status/status-event.js';
import type { StatusSubscription } from '../../status/status-subscription.js';
import type { SseWriter } from '../core/web-response.js';
import type { Sessions } from '../sessions.js';

export interface SseStreamOptions {
  heartbeatMs: number;
  sessions: Sessions;
  /** The data of one event as this client may see it. */
  encode(event: StatusEvent): string;
}

/**
 * Writes a subscription to an SSE stream until the terminal event, the client
 * leaving, or the server closing; heartbeat comments keep proxies from timing
 * the stream out and reveal dead clients. A backed-up client skips to the
 * newest version once it drains; the terminal one is always written, and
 * while it is still going out to other subscribers the end of the stream waits.
 */
export async function streamStatus(
  writer: SseWriter,
  subscription: StatusSubscription,
  options: SseStreamOptions,
): Promise<void> {
  const stop = (): void => subscription.close();
  const forget = options.sessions.add(stop);
  const uncount = countSubscriber('sse');
  writer.onClose(stop);
  const heartbeat = setInterval(() => {
    if (!writer.closed) writer.write(': heartbeat\n\n');
  }, options.heartbeatMs);
  try {
    for (;;) {
      let event = await subscription.next();
      if (!event) break;
      if (!event.terminal && writer.backedUp) {
        await writer.drained();
        event = subscription.poll() ?? event;
      }
      if (writer.closed) break;
      writer.write(frame(event, options.encode(event)));
      if (event.terminal) {
        // Ending the stream waits for the rest of a large fan-out, as the WebSocket close does.
        if (event.fanningOut) await new Promise<void>((resolve) => event.afterFanOut(resolve));
        break;
      }
    }
  } finally {
    clearInterval(heartbeat);
    forget();
    uncount();
    subscription.close();
    writer.end();
  }
}

function frame(event: StatusEvent, json: string): string {
  return `id: ${event.version}\ndata: ${json}\n\n`;
}
