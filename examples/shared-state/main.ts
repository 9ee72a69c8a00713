// The whole example in one command: npx tsx examples/shared-state/main.ts [sqlite|redis]
// Starts two worker processes, enqueues 1,000 images of which 750 are distinct, then prints
// the distinct count (from the records) and the run count (an atomic counter).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createApp } from '../../src/index.js';
import { openImageStore } from './image-store.js';
import { defineImageTasks } from './tasks.js';

const kind = process.argv[2] ?? 'sqlite';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const dir = mkdtempSync(join(tmpdir(), 'errand-shared-state-'));
const id = randomUUID().slice(0, 8);
const brokerPrefix = `errand-example-${id}`;
const storePrefix = `images-example-${id}`;
const brokerUrl = kind === 'redis' ? `${redisUrl}?prefix=${brokerPrefix}` : `sqlite://${join(dir, 'errand.db')}`;
const storeUrl = kind === 'redis' ? `${redisUrl}?prefix=${storePrefix}` : `sqlite://${join(dir, 'images.db')}`;

// Opened before the workers start, so the store's tables exist before anyone writes.
const store = await openImageStore(storeUrl);
const app = createApp({ broker: brokerUrl, logger: false });
const { processImage } = defineImageTasks(app, store);

function startWorker(): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, BROKER_URL: brokerUrl, STORE_URL: storeUrl, CONCURRENCY: '20' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
}

const workers = await Promise.all([startWorker(), startWorker()]);
try {
  // 1,000 uploads, 750 distinct: every fourth one is a re-upload of an earlier image.
  const images = Array.from({ length: 1000 }, (_, i) => `image-${i % 4 === 3 ? i - 1 : i}`);
  const started = Date.now();
  const results = await processImage.delayMany(images.map((image) => [image]));
  for (const r of results) await r.get({ timeout: 60_000 });
  console.log(`${kind}: ${images.length} runs in ${Date.now() - started} ms on ${workers.length} workers`);
  console.log(`distinct images (counted from the records): ${await store.processedCount()}`); // 750
  console.log(`runs (atomic counter): ${await store.runs()}`); // 1000
} finally {
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve).kill('SIGTERM'))));
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (kind === 'redis') await deleteKeys([`{${brokerPrefix}}:*`, `${storePrefix}:*`]);
}

/** Leaves the local Redis as it was: the broker's keys and the store's. */
async function deleteKeys(patterns: string[]): Promise<void> {
  const redis = new Redis(redisUrl);
  for (const match of patterns) {
    for await (const keys of redis.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.unlink(...keys);
    }
  }
  await redis.quit();
}
