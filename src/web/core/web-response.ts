import type { ErrorBody, Refusal } from '../http-errors.js';

/** A complete answer: status, headers and an optional body (JSON for errand's routes). */
export interface WebReply {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** A streamed answer (SSE): the adapter sends status and headers, then hands its writer to `stream`. */
export interface WebStream {
  status: number;
  headers: Record<string, string>;
  /** Writes the stream until it is done or the client left; ends the writer. */
  stream(writer: SseWriter): Promise<void>;
}

export type WebResponse = WebReply | WebStream;

export function isStream(response: WebResponse): response is WebStream {
  return 'stream' in response;
}

/**
 * Where a streamed answer goes, whatever carries it: a node:http response, a
 * Fetch ReadableStream. `backedUp` is the backpressure signal: the client's
 * buffer is full and the writer should wait for `drained()`.
 */
export interface SseWriter {
  write(chunk: string): void;
  readonly backedUp: boolean;
  /** Resolves once the client's buffer has room again, or the client left. */
  drained(): Promise<void>;
  /** True once the client left or the stream ended. */
  readonly closed: boolean;
  /** Calls `listener` once when the client goes away (or the stream ends). */
  onClose(listener: () => void): void;
  end(): void;
}

export const JSON_TYPE = 'application/json; charset=utf-8';

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): WebReply {
  return { status, headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-cache', ...headers }, body: JSON.stringify(body) };
}

export function errorReply(status: number, body: ErrorBody, headers: Record<string, string> = {}): WebReply {
  return jsonReply(status, body, headers);
}

export function refusalReply(refusal: Refusal): WebReply {
  return errorReply(refusal.status, refusal.body, refusal.headers);
}
