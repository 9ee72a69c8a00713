import { appendFileSync } from 'node:fs';
import type { Errand } from '../../src/index.js';

export class FlakyError extends Error {
  override name = 'FlakyError';
}

/** Appends one line per event to a log shared by test and worker processes. */
export function logLine(file: string, line: string): void {
  appendFileSync(file, line + '\n');
}

/**
 * The tasks the conformance suite runs, defined the same way in the test
 * process and in child worker processes. Each records what it did in `log`.
 */
export function defineConformanceTasks(app: Errand, log: string) {
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
  return {
    record: app.task('conf.record', async (ctx, key: string, ms: number = 0) => {
      logLine(log, `start ${key} ${ctx.id} ${process.pid}`);
      if (ms > 0) await sleep(ms);
      logLine(log, `end ${key} ${ctx.id} ${process.pid}`);
      return { key, pid: process.pid };
    }),
    add: app.task('conf.add', (_ctx, a: number, b: number) => a + b),
    // Blocks the event loop for `ms` (synchronous work, like resizing an image).
    block: app.task('conf.block', (ctx, key: string, ms: number) => {
      logLine(log, `start ${key} ${ctx.id} ${process.pid}`);
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // busy: no timer, no I/O callback runs here
      }
      logLine(log, `end ${key} ${ctx.id} ${process.pid}`);
      return key;
    }),
    // Runs for `ms` unless aborted; ignores nothing.
    slow: app.task('conf.slow', async (ctx, key: string, ms: number) => {
      logLine(log, `start ${key} ${ctx.id} ${process.pid} attempt=${ctx.attempt}`);
      await sleep(ms, ctx.signal);
      if (ctx.signal.aborted) {
        logLine(log, `aborted ${key} ${ctx.id} ${(ctx.signal.reason as Error)?.name}`);
        throw ctx.signal.reason;
      }
      logLine(log, `end ${key} ${ctx.id} ${process.pid}`);
      return key;
    }),
  };
}
