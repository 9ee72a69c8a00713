import { endFor, type StartTransport } from './transport.js';
import { isStatusMessage, isTerminalState } from './types.js';

/**
 * Polls GET /task_status/?task_id= every pollIntervalMs, sending the last
 * version as If-None-Match so an unchanged task costs a bodiless 304.
 */
export const startPoll: StartTransport = (url, context) => {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const tick = async (): Promise<void> => {
    const version = context.lastVersion();
    let response: Response;
    try {
      response = await fetch(url, {
        headers: version > 0 ? { 'if-none-match': `"${version}"` } : {},
        cache: 'no-store',
        signal: controller.signal,
      });
    } catch {
      if (!stopped) context.onEnd({ kind: 'lost' });
      return;
    }
    if (stopped) return;
    if (response.status === 304) {
      context.onOpen();
    } else if (response.ok) {
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        if (!stopped) context.onEnd({ kind: 'lost' });
        return;
      }
      if (stopped) return;
      context.onOpen();
      if (isStatusMessage(body)) {
        context.onStatus(body);
        if (isTerminalState(body.state)) return;
      }
    } else {
      const end = await endFor(response);
      if (!stopped) context.onEnd(end);
      return;
    }
    if (!stopped) timer = setTimeout(() => void tick(), context.pollIntervalMs);
  };

  void tick();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    },
  };
};
