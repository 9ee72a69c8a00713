import type { StatusMessage } from './types.js';

/** How a transport stopped: the watcher decides whether to retry, fall back, or give up. */
export type TransportEnd =
  /** The connection failed or dropped; retry or fall back. */
  | { kind: 'lost' }
  /** The server knows no such task (404, WebSocket close 4404/4410). */
  | { kind: 'not_found'; message: string }
  /** The server refused the id (400, close 4400). */
  | { kind: 'bad_request'; message: string }
  /** The server's authorize refused this client (401, 403). Retrying would not help. */
  | { kind: 'unauthorized' | 'forbidden'; message: string };

export interface TransportContext {
  id: string;
  /** Highest version seen so far, to resume from. */
  lastVersion(): number;
  pollIntervalMs: number;
  /** Called when the server answered (the transport works here). */
  onOpen(): void;
  onStatus(status: StatusMessage): void;
  /** Called at most once, unless close() was called first. */
  onEnd(end: TransportEnd): void;
}

export interface TransportHandle {
  close(): void;
}

export type StartTransport = (url: string, context: TransportContext) => TransportHandle;

/** Reads an error body `{ message }` if there is one. */
export async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON
  }
  return `HTTP ${response.status}`;
}

/** Maps a refused HTTP answer to how the transport ended. */
export async function endFor(response: Response): Promise<TransportEnd> {
  if (response.status === 404) return { kind: 'not_found', message: await errorMessage(response) };
  if (response.status === 400) return { kind: 'bad_request', message: await errorMessage(response) };
  if (response.status === 401) return { kind: 'unauthorized', message: await errorMessage(response) };
  if (response.status === 403) return { kind: 'forbidden', message: await errorMessage(response) };
  await response.body?.cancel().catch(() => undefined);
  return { kind: 'lost' };
}
