// The worker process: runs the demo's tasks; the web process only enqueues them.
import { loadConfig } from './config.js';
import { onShutdown } from './shutdown.js';
import { createDemoApp, demoOptionsFrom } from './tasks.js';

const config = loadConfig();
const { app } = createDemoApp(demoOptionsFrom(config));
// The worker's own signal handling stops claiming and gives running tasks
// graceMs to finish; a second signal releases them at once. beat: true runs
// the /beat/ schedule here too: with several workers, each tick still runs once.
const worker = app.worker({ concurrency: 10, graceMs: 10_000, handleSignals: true, beat: true });
await worker.start();
process.stdout.write(`errand demo worker ready (broker ${config.broker}, provider ${config.demoApiUrl})\n`);

// worker.stop() is idempotent: this waits for the stop the signal began, then closes the broker.
onShutdown('worker', async () => {
  await worker.stop();
  await app.close();
});
