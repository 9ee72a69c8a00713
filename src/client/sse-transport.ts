import { SseParser } from './sse-parser.js';
import { endFor, type StartTransport } from './transport.js';
import { isStatusMessage } from './types.js';

/**
 * Reads GET /tasks/:id/events with fetch streaming: unlike EventSource it
 * sees a 404, and it resumes with our own Last-Event-ID (the last version).
 */
export const startSse: StartTransport = (url, context) => {
  const controller = new AbortController();
  let stopped = false;
  const end = (kind: Parameters<typeof context.onEnd>[0]): void => {
    if (!stopped) context.onEnd(kind);
  };

  const run = async (): Promise<void> => {
    const version = context.lastVersion();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...(version > 0 ? { 'last-event-id': String(version) } : {}) },
      cache: 'no-store',
      signal: controller.signal,
    });
    if (response.status !== 200 || !response.body) return end(await endFor(response));
    context.onOpen();
    const parser = new SseParser((message) => {
      let body: unknown;
      try {
        body = JSON.parse(message.data);
      } catch {
        return;
      }
      if (isStatusMessage(body) && !stopped) context.onStatus(body);
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || stopped) break;
      parser.push(value);
    }
    end({ kind: 'lost' }); // the stream ended; after a terminal event the watcher has already stopped
  };

  run().catch(() => end({ kind: 'lost' }));
  return {
    close() {
      stopped = true;
      controller.abort();
    },
  };
};
