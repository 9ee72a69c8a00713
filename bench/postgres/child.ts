/** A worker process of the PostgreSQL benchmark, driven over IPC by index.ts. */
import { clock } from '../clock.js';
import { openWorker, type PgSystem, type WorkerRun } from './systems.js';

type ToChild =
  | { type: 'prepare'; system: PgSystem; concurrency: number }
  | { type: 'go' }
  | { type: 'stop' }
  | { type: 'ping' }
  | { type: 'exit' };

let run: WorkerRun | undefined;
let done = 0;
let starts: number[] = [];
let reporter: NodeJS.Timeout | undefined;
const send = (m: object): void => void process.send?.(m);

async function handle(m: ToChild): Promise<void> {
  switch (m.type) {
    case 'ping':
      return send({ type: 'pong', at: clock() });
    case 'prepare':
      done = 0;
      starts = [];
      run = await openWorker(m.system, {
        concurrency: m.concurrency,
        onStart: (sentAt) => {
          if (sentAt > 0) starts.push(clock() - sentAt);
        },
        onDone: () => void done++,
      });
      return send({ type: 'prepared' });
    case 'go': {
      const goAt = clock();
      await run!.start();
      let reported = -1;
      reporter = setInterval(() => {
        if (done !== reported) send({ type: 'progress', done: (reported = done) });
      }, 20);
      return send({ type: 'started', goAt });
    }
    case 'stop':
      clearInterval(reporter);
      await run?.close();
      run = undefined;
      return send({ type: 'stopped', done, latencies: starts });
    case 'exit':
      process.exit(0);
  }
}

process.on('message', (m: ToChild) => {
  handle(m).catch((e: unknown) => send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
