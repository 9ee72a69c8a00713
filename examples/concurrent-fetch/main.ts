// The whole example in one command: npx tsx examples/concurrent-fetch/main.ts
// Runs both tasks on the memory broker with a worker in this process and prints how long each took.
import { createApp } from '../../src/index.js';
import { startSlowServer } from './slow-server.js';
import { defineFetchTasks } from './tasks.js';

const server = await startSlowServer();
const app = createApp({ broker: 'memory://', logger: false });
const { fetchAll, fetchOneByOne } = defineFetchTasks(app);
await app.worker({ handleSignals: false }).start();
try {
  const urls = [300, 400, 500].map((ms) => `${server.url}/slow?ms=${ms}`);
  for (const task of [fetchAll, fetchOneByOne]) {
    const r = await task.delay(urls);
    const results = await r.get({ timeout: 10_000 });
    const info = await r.info();
    const took = (info?.finishedAt ?? 0) - (info?.startedAt ?? 0);
    console.log(`${task.name}: ${results.length} responses in ${took} ms (delays 300 + 400 + 500 = 1200 ms)`);
  }
} finally {
  await app.close();
  await server.close();
}
