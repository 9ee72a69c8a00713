import type { SseWriter } from '../core/web-response.js';

/** Bytes the stream holds for a reader before the writer counts as backed up. */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * An SseWriter that is a Fetch ReadableStream: `stream` is the Response body,
 * and backpressure is its queue (`desiredSize`), which the server (or runtime)
 * drains as the client reads. The stream ends when the writer ends; the client
 * leaving cancels it (or aborts `signal`).
 */
export function streamSseWriter(signal?: AbortSignal): { writer: SseWriter; stream: ReadableStream<Uint8Array> } {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let wake: (() => void) | undefined;
  const listeners: Array<() => void> = [];
  const finish = (): void => {
    if (closed) return;
    closed = true;
    wake?.();
    wake = undefined;
    for (const listener of listeners.splice(0)) listener();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        // The reader wants more: a writer waiting for room may go on.
        wake?.();
        wake = undefined;
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk?.byteLength ?? 0 },
  );
  signal?.addEventListener('abort', finish, { once: true });
  const writer: SseWriter = {
    write(chunk) {
      if (closed) return;
      try {
        controller.enqueue(encoder.encode(chunk));
      } catch {
        finish(); // the stream errored or was cancelled
      }
    },
    get backedUp() {
      return !closed && (controller.desiredSize ?? 0) <= 0;
    },
    drained() {
      if (closed || (controller.desiredSize ?? 0) > 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const previous = wake;
        wake = () => {
          previous?.();
          resolve();
        };
      });
    },
    get closed() {
      return closed;
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
    end() {
      if (closed) return;
      finish();
      try {
        controller.close();
      } catch {
        // already closed or cancelled
      }
    },
  };
  return { writer, stream };
}
