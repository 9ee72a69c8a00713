import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { WsPeer, WsSession } from '../core/websocket.js';

/** Text frames, never compressed (errand's WebSocket servers negotiate no permessage-deflate anyway). */
const TEXT = { binary: false, compress: false } as const;

/** A WsPeer over a ws WebSocket. */
export function wsPeer(ws: WebSocket): WsPeer {
  return {
    get open() {
      return ws.readyState === ws.OPEN;
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    send: (text) => ws.send(text, TEXT),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    ping: () => ws.ping(),
    /**
     * The terminal status and the close frame in one write (one syscall instead of two
     * per socket, which dominates a 10,000-socket fan-out). The TCP socket is ws's
     * private `_socket`; without it, two writes it is.
     */
    sendAndClose(text, code, reason) {
      const socket = (ws as unknown as { _socket?: Socket })._socket;
      socket?.cork();
      ws.send(text, TEXT);
      ws.close(code, reason);
      if (socket) process.nextTick(() => socket.uncork());
    },
  };
}

/** Feeds a ws WebSocket's events to a session. */
export function feedSession(ws: WebSocket, session: WsSession): void {
  ws.on('message', (data, isBinary) => session.message(data, isBinary));
  ws.on('pong', () => session.pong());
  ws.once('close', () => session.closed());
}
