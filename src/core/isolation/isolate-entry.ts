// Runs in a worker thread or a child process: loads one task handler by
// module path and runs the jobs its parent sends, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { toWire, type FromRunner, type RunnerInit, type ToRunner } from './isolate-protocol.js';

type Handler = (ctx: unknown, ...args: unknown[]) => unknown;

const send: (message: FromRunner) => void = parentPort
  ? (message) => parentPort!.postMessage(message)
  : (message) => void process.send?.(message);
const onMessage = (listener: (message: ToRunner) => void): void => {
  if (parentPort) parentPort.on('message', listener);
  else process.on('message', listener as (message: unknown) => void);
};

const init: RunnerInit = parentPort ? (workerData as RunnerInit) : (JSON.parse(process.env.ERRAND_ISOLATE ?? '{}') as RunnerInit);
const aborts = new Map<number, AbortController>();

async function load(): Promise<Handler> {
  const loaded = (await import(init.module)) as Record<string, unknown>;
  const handler = loaded[init.exportName];
  if (typeof handler !== 'function') {
    throw new TypeError(`${init.module} exports no function named ${init.exportName}`);
  }
  return handler as Handler;
}

async function run(handler: Handler, message: Extract<ToRunner, { type: 'run' }>): Promise<void> {
  const controller = new AbortController();
  aborts.set(message.job, controller);
  const ctx = {
    ...message.task,
    signal: controller.signal,
    async progress(current: number, total?: number, meta?: unknown) {
      send({
        type: 'progress',
        job: message.job,
        current,
        ...(total === undefined ? {} : { total }),
        ...(meta === undefined ? {} : { meta: meta as never }),
      });
    },
  };
  try {
    const value = await handler(ctx, ...message.args);
    send({ type: 'done', job: message.job, value });
  } catch (error) {
    send({ type: 'failed', job: message.job, error: toWire(error) });
  } finally {
    aborts.delete(message.job);
  }
}

load().then(
  (handler) => {
    onMessage((message) => {
      if (message.type === 'run') void run(handler, message);
      else aborts.get(message.job)?.abort(Object.assign(new Error(message.message), { name: 'TimeoutError' }));
    });
    send({ type: 'ready' });
  },
  (error: unknown) => send({ type: 'broken', error: toWire(error) }),
);
