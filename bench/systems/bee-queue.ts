import BeeQueue from 'bee-queue';
import { clock } from '../clock.js';
import { PREFIX, QUEUE_NAME, redisOptions } from '../config.js';
import type { BenchSystem, Producer, WorkerOptions, WorkerRun } from './types.js';
import { packageVersion } from './versions.js';

/**
 * bee-queue with its defaults (succeeded jobs are kept), except that the
 * worker does not subscribe to job events it has no use for (getEvents:
 * false), and the producer is no worker (isWorker: false), subscribes to
 * events only when it waits for results and keeps no job map (storeJobs:
 * false: results come through the queue-level 'job succeeded' event).
 */
export function beeQueueSystem(): BenchSystem {
  return {
    name: 'bee-queue',
    usesRedis: true,
    bulkMethod: 'queue.saveAll (one call)',
    version: () => packageVersion('bee-queue'),
    resetStorage: async () => {},
    openProducer,
    prepareWorker,
  };
}

const redis = { ...redisOptions };

async function openProducer({ watchResults }: { watchResults: boolean }): Promise<Producer> {
  const queue = new BeeQueue<{ i: number }>(QUEUE_NAME, {
    redis,
    prefix: PREFIX.beeQueue,
    isWorker: false,
    getEvents: watchResults,
    storeJobs: false,
  });
  // Results through the queue-level 'job succeeded' event: the job-level
  // 'succeeded' event is lost when the event reaches this process before the
  // reply to save() (the job is not in queue.jobs yet), which happens here.
  const waiting = new Map<string, (value: unknown) => void>();
  const early = new Map<string, unknown>();
  if (watchResults) {
    queue.on('job succeeded', (jobId: string, result: unknown) => {
      const resolve = waiting.get(jobId);
      if (resolve) {
        waiting.delete(jobId);
        resolve(result);
      } else early.set(jobId, result);
    });
  }
  await queue.ready();
  return {
    async enqueueBulk(count) {
      const jobs = Array.from({ length: count }, (_, i) => queue.createJob({ i }));
      const errors = await queue.saveAll(jobs);
      if (errors.size > 0) throw new Error(`bee-queue saveAll: ${errors.size} jobs failed`);
    },
    batch: {
      method: 'queue.saveAll(jobs)',
      async enqueue(start, count) {
        const jobs = Array.from({ length: count }, (_, i) => queue.createJob({ i: start + i }));
        const errors = await queue.saveAll(jobs);
        if (errors.size > 0) throw new Error(`bee-queue saveAll: ${errors.size} jobs failed`);
      },
    },
    async send(index) {
      const job = await queue.createJob({ i: index }).save();
      const id = job.id;
      const result = new Promise<unknown>((resolve) => {
        if (early.has(id)) {
          resolve(early.get(id));
          early.delete(id);
        } else waiting.set(id, resolve);
      });
      return { result };
    },
    async close() {
      await queue.close();
    },
  };
}

async function prepareWorker({ concurrency, mode, onCompleted }: WorkerOptions): Promise<WorkerRun> {
  const queue = new BeeQueue<{ i: number }>(QUEUE_NAME, { redis, prefix: PREFIX.beeQueue, getEvents: false });
  queue.on('succeeded', onCompleted);
  queue.on('error', (error) => console.error('bee-queue worker error:', error));
  await queue.ready();
  return {
    async start() {
      queue.process(concurrency, async () => (mode === 'stamp' ? clock() : undefined));
    },
    async close() {
      await queue.close();
    },
  };
}
