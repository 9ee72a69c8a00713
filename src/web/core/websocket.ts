import type { Refusal } from '../http-errors.js';

/**
 * What a session needs of one WebSocket, whatever implementation the adapter
 * has (ws on node:http today; a runtime's own WebSocket later). Sending text
 * is enough for errand's routes; `bufferedAmount` is the backpressure signal.
 */
export interface WsPeer {
  /** True while messages can be sent. */
  readonly open: boolean;
  /** Bytes queued for the client but not sent yet. */
  readonly bufferedAmount: number;
  /** Sends a text message: a string, or its UTF-8 bytes (bytes encoded once can go to many sockets as they are). */
  send(text: string | Uint8Array): void;
  close(code: number, reason: string): void;
  /** Sends `text` and the close frame together where the implementation can (one write instead of two). */
  sendAndClose?(text: string | Uint8Array, code: number, reason: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
  /**
   * Sends a ping; the session then expects `pong()` before the next one. Leave it
   * out where the implementation keeps the connection alive by itself.
   */
  ping?(): void;
}

/** What the adapter tells a session about its socket. */
export interface WsSession {
  /** A message from the client; `binary` is true for a binary frame. */
  message(data: unknown, binary?: boolean): void;
  pong(): void;
  /** The socket closed (either side, or a dropped connection). */
  closed(): void;
}

/**
 * A WebSocket route's decision, taken before the handshake: a refusal, which
 * the adapter answers as a plain HTTP response (nothing was sent over a
 * socket), or the session to start once the handshake is done.
 */
export type WsAdmission =
  | { ok: false; refusal: Refusal }
  | {
      ok: true;
      open(peer: WsPeer): WsSession;
      /** Called instead of `open` when the handshake never completes (the client left): release what admit took. */
      abandon?(): void;
    };

/** Upper bound on what a client may send in one message (ws's maxPayload): errand's routes ignore incoming messages. */
export const MAX_PAYLOAD_BYTES = 4096;

/** How long a closed socket may wait for the client's close frame before it is dropped (ws waits 30 s). */
const CLOSE_GRACE_MS = 1000;

/** Closes with `code`, and cuts the connection if the client does not finish the closing handshake soon. */
export function closeSoon(peer: WsPeer, code: number, reason: string): void {
  peer.close(code, reason);
  setTimeout(() => peer.terminate(), CLOSE_GRACE_MS).unref();
}
