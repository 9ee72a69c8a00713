import { setTimeout as sleep } from 'node:timers/promises';
import { channelRoute, type AnyChannelRoute } from '../../src/web/index.js';

export const CHART_POINTS = 100;

export interface LiveChartOptions {
  intervalMs: number;
  /** 0..1, for tests that want known values. */
  random?: () => number;
}

/**
 * WS /ws/two_url/, the tutorial's live chart: `{ "data": 0..100 }` every
 * `intervalMs`, CHART_POINTS of them per connection, then silence. A point the
 * client is too slow for is skipped rather than queued.
 */
export function liveChartRoute({ intervalMs, random = Math.random }: LiveChartOptions): AnyChannelRoute {
  return channelRoute({
    path: '/ws/two_url/',
    async onConnect(socket) {
      for (let i = 0; i < CHART_POINTS && !socket.signal.aborted; i++) {
        if (i > 0) await sleep(intervalMs, undefined, { signal: socket.signal }).catch(() => undefined);
        if (socket.signal.aborted) return;
        socket.send({ data: Math.floor(random() * 101) });
      }
    },
  });
}
