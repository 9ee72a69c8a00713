// examples/shared-state under real load: 4 worker processes × concurrency 20, 2,000 uploads of 1,500 distinct images.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';
import { openImageStore, type ImageStore } from '../../examples/shared-state/image-store.js';
import { defineImageTasks } from '../../examples/shared-state/tasks.js';
import { defineNaiveTask, openNaiveCounter, type NaiveCounter } from '../fixtures/examples/naive-counter.js';
import { startChild, stopChild, type Child } from '../support/child.js';
import { describeRedis, REDIS_URL, uniquePrefix } from '../support/redis.js';

const WORKERS = 4;
const CONCURRENCY = 20;
const DISTINCT = 1500;
const UPLOADS = 2000;
// Images 0..1499 once each, then 500 re-uploads of earlier ones, shuffled so duplicates run side by side.
const images = Array.from({ length: UPLOADS }, (_, i) => `image-${i < DISTINCT ? i : (i * 7) % DISTINCT}`).sort(
  () => Math.random() - 0.5,
);

function describeSharedState(kind: string, urls: () => { broker: string; store: string; cleanup(): void }): void {
  describe(`examples/shared-state on ${kind}`, () => {
    let env: ReturnType<typeof urls>;
    let app: Errand;
    let store: ImageStore;
    let naive: NaiveCounter;
    let workers: Child[] = [];

    beforeAll(async () => {
      env = urls();
      store = await openImageStore(env.store); // creates the tables before the workers open the file
      naive = await openNaiveCounter(env.store);
      app = createApp({ broker: env.broker, logger: false });
      const childEnv = { BROKER_URL: env.broker, STORE_URL: env.store, CONCURRENCY: String(CONCURRENCY) };
      workers = await Promise.all(
        Array.from({ length: WORKERS }, () => startChild('test/fixtures/examples/shared-state-worker.ts', childEnv)),
      );
    }, 60_000);

    afterAll(async () => {
      await Promise.all(workers.map((w) => stopChild(w, 'SIGTERM')));
      const codes = await Promise.all(workers.map((w) => w.exited));
      await app?.close();
      await store?.close();
      await naive?.close();
      env?.cleanup();
      expect(codes, 'workers exit cleanly on SIGTERM').toEqual(workers.map(() => 0));
    }, 60_000);

    it('counts distinct images from the records and every run with an atomic increment; a naive counter loses runs', async () => {
      const { processImage } = defineImageTasks(app, store);
      const processNaive = defineNaiveTask(app, naive);
      const args = images.map((image): [string] => [image]);
      const results = [...(await processImage.delayMany(args)), ...(await processNaive.delayMany(args))];
      for (const r of results) await r.get({ timeout: 60_000 });

      expect(new Set(images).size).toBe(DISTINCT);
      expect(await store.processedCount()).toBe(DISTINCT);
      expect(await store.runs()).toBe(UPLOADS);
      // Read, await the work, write: runs that overlap write the same value, so far fewer than 2,000 survive.
      const naiveCount = await naive.value();
      console.log(`${kind}: naive read-then-write counter ${naiveCount} of ${UPLOADS}`);
      expect(naiveCount).toBeLessThan(UPLOADS);
    }, 120_000);
  });
}

describeSharedState('sqlite', () => {
  const dir = join(tmpdir(), `errand-example-shared-state-${randomUUID()}`);
  mkdirSync(dir);
  return {
    broker: `sqlite://${join(dir, 'errand.db')}`,
    store: `sqlite://${join(dir, 'images.db')}`, // a file of its own, beside the broker's
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
});

describeRedis('examples/shared-state', () => {
  describeSharedState('redis', () => {
    const prefix = uniquePrefix('example-shared-state'); // its '{prefix}:*' keys are deleted after the suite
    const broker = new URL(REDIS_URL);
    broker.searchParams.set('prefix', prefix);
    const store = new URL(REDIS_URL);
    store.searchParams.set('prefix', `{${prefix}}:images`);
    return { broker: broker.toString(), store: store.toString(), cleanup: () => {} };
  });
});
