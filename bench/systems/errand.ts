import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { clock } from '../clock.js';
import { errandRedisUrl, errandSqliteUrl, SQLITE_DIR, SQLITE_FILE } from '../config.js';
import type { BenchSystem, Producer, WorkerOptions, WorkerRun } from './types.js';
import type * as errandModule from '../../src/index.js';

type Flavour = 'redis' | 'sqlite';

/** errand with its defaults (results kept 24 h), on Redis or on one SQLite file. */
export function errandSystem(flavour: Flavour): BenchSystem {
  return {
    name: flavour === 'redis' ? 'errand-redis' : 'errand-sqlite',
    usesRedis: flavour === 'redis',
    bulkMethod:
      'Promise.all of task.delay (one call per task; task.delayMany is measured as the alternative and in the bulk workload)',
    version: () =>
      (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
    async resetStorage() {
      if (flavour !== 'sqlite') return;
      await mkdir(SQLITE_DIR, { recursive: true });
      for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(SQLITE_FILE + suffix, { force: true });
    },
    openProducer: (options) => openProducer(flavour, options),
    prepareWorker: (options) => prepareWorker(flavour, options),
  };
}

const TASK = 'bench.noop';

type ErrandModule = typeof errandModule;

/** Imported lazily so that the peers still run while errand's adapters are unfinished. */
async function errand(): Promise<ErrandModule> {
  return import('../../src/index.js');
}

async function openApp(flavour: Flavour) {
  const { createApp } = await errand();
  return createApp({ broker: flavour === 'redis' ? errandRedisUrl() : errandSqliteUrl(), logger: false });
}

async function openProducer(flavour: Flavour, _options: { watchResults: boolean }): Promise<Producer> {
  const app = await openApp(flavour);
  const task = app.task(TASK, (_ctx, _i: number): number | null => null);
  return {
    async enqueueBulk(count) {
      await Promise.all(Array.from({ length: count }, (_, i) => task.delay(i)));
    },
    altBulk: {
      method: 'task.delayMany (one call for all tasks)',
      async enqueue(count) {
        await task.delayMany(Array.from({ length: count }, (_, i): [number] => [i]));
      },
    },
    batch: {
      method: 'task.delayMany(argsList)',
      async enqueue(start, count) {
        await task.delayMany(Array.from({ length: count }, (_, i): [number] => [start + i]));
      },
    },
    async send(index) {
      const handle = await task.delay(index);
      return { result: handle.get() };
    },
    async close() {
      await app.close();
    },
  };
}

async function prepareWorker(flavour: Flavour, { concurrency, mode, onCompleted }: WorkerOptions): Promise<WorkerRun> {
  const app = await openApp(flavour);
  app.task(TASK, (_ctx, _i: number): number | null => (mode === 'stamp' ? clock() : null));
  // Count a task once its success is recorded in the broker (the engine has no 'completed' event).
  const backend = app.backend;
  const complete = backend.complete.bind(backend);
  backend.complete = async (task, resultJson) => {
    const info = await complete(task, resultJson);
    if (info) onCompleted();
    return info;
  };
  // Open the connection now, so that start() measures work, not connecting.
  await backend.getInfo('bench-warm-up');
  const worker = app.worker({ concurrency, handleSignals: false });
  return {
    start: () => worker.start(),
    close: () => app.close(),
  };
}
