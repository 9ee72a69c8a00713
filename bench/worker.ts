/**
 * A worker process of the benchmark: `node --import tsx bench/worker.ts`,
 * driven by its parent over IPC (see protocol.ts). It connects on
 * 'prepare', starts taking tasks on 'go', reports how many completed
 * (and when the last did) every 50 ms, and closes everything on 'stop'.
 */
import { clock } from './clock.js';
import type { FromChild, ToChild } from './protocol.js';
import { flushCount, installFlushCounter } from './socket-count.js';
import { loadSystem } from './systems/index.js';
import type { WorkerRun } from './systems/types.js';

installFlushCounter();

let run: WorkerRun | undefined;
let done = 0;
let lastDoneAt = 0;
let reported = 0;
let flushesAtGo = 0;
let reporter: NodeJS.Timeout | undefined;

function send(message: FromChild): void {
  process.send?.(message);
}

async function handle(message: ToChild): Promise<void> {
  switch (message.type) {
    case 'ping':
      send({ type: 'pong', at: clock() });
      return;
    case 'prepare': {
      if (run) throw new Error('prepare while a worker is open');
      const system = await loadSystem(message.system);
      done = 0;
      reported = 0;
      lastDoneAt = 0;
      run = await system.prepareWorker({
        concurrency: message.concurrency,
        mode: message.mode,
        onCompleted: () => {
          done++;
          lastDoneAt = clock();
        },
      });
      send({ type: 'prepared' });
      return;
    }
    case 'go': {
      if (!run) throw new Error('go before prepare');
      flushesAtGo = flushCount();
      const goAt = clock();
      await run.start();
      reporter = setInterval(() => {
        if (done === reported) return;
        reported = done;
        send({ type: 'progress', done, lastDoneAt });
      }, 50);
      // clock() in µs + this = CLOCK_MONOTONIC in µs, the time base of --cpu-prof samples
      const monotonicOffsetUs = Number(process.hrtime.bigint() / 1000n) - clock() * 1000;
      send({ type: 'started', goAt, monotonicOffsetUs });
      return;
    }
    case 'stop': {
      clearInterval(reporter);
      const flushes = flushCount() - flushesAtGo;
      await run?.close();
      run = undefined;
      send({ type: 'stopped', done, lastDoneAt, flushes });
      return;
    }
    case 'exit':
      process.exit(0);
  }
}

process.on('message', (message: ToChild) => {
  handle(message).catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
// The parent went away: do not linger.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
