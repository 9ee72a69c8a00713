// A worker process for the status benchmarks: runs bench/status/tasks.ts on $BENCH_BROKER.
// IPC { type: 'release', ids } (or ids: 'all') lets gated tasks finish.
import { createApp } from '../../src/create-app.js';
import { clock } from '../clock.js';
import { defineBenchTasks } from './tasks.js';

const broker = process.env.BENCH_BROKER;
if (!broker) throw new Error('BENCH_BROKER is required');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);

const released = new Set<string>();
const waiting = new Map<string, () => void>();
let releaseAll = false;

function gate(id: string): Promise<void> {
  if (releaseAll || released.delete(id)) return Promise.resolve();
  return new Promise((resolve) => waiting.set(id, resolve));
}

process.on('message', (message: { type?: string; ids?: string[] | 'all' }) => {
  if (message.type === 'ping') return void process.send?.({ type: 'pong', at: clock() });
  if (message.type !== 'release') return;
  if (message.ids === 'all') {
    releaseAll = true;
    for (const wake of waiting.values()) wake();
    waiting.clear();
    return;
  }
  for (const id of message.ids ?? []) {
    const wake = waiting.get(id);
    if (wake) {
      waiting.delete(id);
      wake();
    } else {
      released.add(id); // released before the worker claimed it
    }
  }
});

const app = createApp({ broker, logger: false });
defineBenchTasks(app, gate);
const worker = app.worker({ concurrency, handleSignals: false, graceMs: 1000 });
await worker.start();
process.stdout.write(`bench worker ready (broker ${broker}, concurrency ${concurrency})\n`);

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  releaseAll = true;
  for (const wake of waiting.values()) wake();
  worker
    .stop()
    .then(() => app.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown);
