import type { StartTransport } from './transport.js';
import { isStatusMessage } from './types.js';

/** Close codes the server uses for ids it will never serve. */
const NOT_FOUND_CODES = new Set([4404, 4410]);
const BAD_REQUEST_CODE = 4400;

/**
 * Opens WS /ws/task_status/:id/: the server sends the current state, then
 * every update, and closes with 1000 after the terminal one.
 */
export const startWs: StartTransport = (url, context) => {
  const WebSocketClass = globalThis.WebSocket;
  let stopped = false;
  if (typeof WebSocketClass !== 'function') {
    // No WebSocket here: report a failed connect (asynchronously, like a real one) so the watcher falls back.
    queueMicrotask(() => !stopped && context.onEnd({ kind: 'lost' }));
    return { close: () => void (stopped = true) };
  }
  const socket = new WebSocketClass(url);
  socket.onopen = () => context.onOpen();
  socket.onmessage = (event: MessageEvent) => {
    if (stopped || typeof event.data !== 'string') return;
    let body: unknown;
    try {
      body = JSON.parse(event.data);
    } catch {
      return;
    }
    if (isStatusMessage(body)) context.onStatus(body);
  };
  socket.onclose = (event: CloseEvent) => {
    if (stopped) return;
    stopped = true;
    if (NOT_FOUND_CODES.has(event.code)) context.onEnd({ kind: 'not_found', message: event.reason || 'task not found' });
    else if (event.code === BAD_REQUEST_CODE) context.onEnd({ kind: 'bad_request', message: event.reason || 'bad task id' });
    else context.onEnd({ kind: 'lost' });
  };
  socket.onerror = () => undefined; // a close event follows
  return {
    close() {
      stopped = true;
      socket.onclose = null;
      socket.onmessage = null;
      if (socket.readyState === socket.CONNECTING || socket.readyState === socket.OPEN) socket.close(1000);
    },
  };
};
