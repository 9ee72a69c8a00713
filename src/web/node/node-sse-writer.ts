import type { ServerResponse } from 'node:http';
import type { SseWriter } from '../core/web-response.js';

/** An SseWriter over a node:http response (Fastify's reply.raw, express's res, plain node). */
export function nodeSseWriter(res: ServerResponse): SseWriter {
  // A write to a vanished client must not become an uncaught error; the 'close' that follows ends the stream.
  res.on('error', () => undefined);
  return {
    write(chunk) {
      if (!res.destroyed && !res.writableEnded) res.write(chunk);
    },
    get backedUp() {
      return res.writableNeedDrain;
    },
    drained() {
      return new Promise((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    },
    get closed() {
      return res.destroyed || res.writableEnded;
    },
    onClose(listener) {
      res.once('close', listener);
    },
    end() {
      // keep the 'error' listener: a late socket error after end() must stay handled
      res.end();
    },
  };
}
