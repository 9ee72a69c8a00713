// A worker process: npx tsx examples/shared-state/worker.ts (env BROKER_URL, STORE_URL, CONCURRENCY).
import { createApp } from '../../src/index.js';
import { openImageStore } from './image-store.js';
import { defineImageTasks } from './tasks.js';

const app = createApp({ broker: process.env.BROKER_URL, logger: false });
const store = await openImageStore(process.env.STORE_URL ?? 'sqlite://./.errand/images.db');
defineImageTasks(app, store);
// Our own SIGTERM handler, so the store closes only after the running tasks have finished.
const worker = app.worker({ concurrency: Number(process.env.CONCURRENCY ?? 20), handleSignals: false });
await worker.start();
process.stdout.write(`worker ${process.pid} ready\n`);
process.once('SIGTERM', () => {
  void worker
    .stop()
    .then(() => store.close())
    .then(() => app.close());
});
