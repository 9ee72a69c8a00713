import { Queue, QueueEvents, Worker } from 'bullmq';
import { clock } from '../clock.js';
import { PREFIX, QUEUE_NAME, redisOptions } from '../config.js';
import type { BenchSystem, Producer, WorkerOptions, WorkerRun } from './types.js';
import { packageVersion } from './versions.js';

/** BullMQ with its defaults (completed jobs are kept; events stream capped at 10,000). */
export function bullmqSystem(): BenchSystem {
  return {
    name: 'bullmq',
    usesRedis: true,
    bulkMethod: 'queue.addBulk (one call)',
    version: () => packageVersion('bullmq'),
    resetStorage: async () => {},
    openProducer,
    prepareWorker,
  };
}

const connection = { ...redisOptions };

async function openProducer({ watchResults }: { watchResults: boolean }): Promise<Producer> {
  const queue = new Queue(QUEUE_NAME, { connection, prefix: PREFIX.bullmq });
  await queue.waitUntilReady();
  let events: QueueEvents | undefined;
  const waiting = new Map<string, (value: unknown) => void>();
  const early = new Map<string, unknown>();
  if (watchResults) {
    events = new QueueEvents(QUEUE_NAME, { connection, prefix: PREFIX.bullmq });
    events.on('completed', ({ jobId, returnvalue }) => {
      const resolve = waiting.get(jobId);
      if (resolve) {
        waiting.delete(jobId);
        resolve(returnvalue);
      } else early.set(jobId, returnvalue);
    });
    await events.waitUntilReady();
  }
  return {
    async enqueueBulk(count) {
      await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'noop', data: { i } })));
    },
    batch: {
      method: 'queue.addBulk(jobs)',
      async enqueue(start, count) {
        await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'noop', data: { i: start + i } })));
      },
    },
    async send(index) {
      const job = await queue.add('noop', { i: index });
      const id = job.id!;
      const result = new Promise<unknown>((resolve) => {
        if (early.has(id)) {
          resolve(early.get(id));
          early.delete(id);
        } else waiting.set(id, resolve);
      });
      return { result };
    },
    async close() {
      await events?.close();
      await queue.close();
    },
  };
}

async function prepareWorker({ concurrency, mode, onCompleted }: WorkerOptions): Promise<WorkerRun> {
  const worker = new Worker(QUEUE_NAME, async () => (mode === 'stamp' ? clock() : undefined), {
    connection: { ...connection, maxRetriesPerRequest: null },
    prefix: PREFIX.bullmq,
    concurrency,
    autorun: false,
  });
  worker.on('completed', onCompleted);
  worker.on('error', (error) => console.error('bullmq worker error:', error));
  await worker.waitUntilReady();
  let running: Promise<void> | undefined;
  return {
    async start() {
      running = worker.run();
    },
    async close() {
      await worker.close();
      await running;
    },
  };
}
