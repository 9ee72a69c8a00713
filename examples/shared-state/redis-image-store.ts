// The image store in Redis: a SET of content hashes and an INCR counter, under a key prefix.
import { Redis } from 'ioredis';
import type { ImageStore } from './image-store.js';

/** url: 'redis://host:port/db?prefix=images'; keys are '<prefix>:processed' and '<prefix>:runs'. */
export async function openRedisImageStore(url: string): Promise<ImageStore> {
  const parsed = new URL(url);
  const prefix = parsed.searchParams.get('prefix') ?? 'images';
  parsed.search = ''; // ioredis would read the query as its own options
  const redis = new Redis(parsed.toString(), { lazyConnect: true });
  await redis.connect();
  const processed = `${prefix}:processed`;
  const runs = `${prefix}:runs`;
  return {
    // SADD of a member already there is a no-op, so duplicates and redeliveries count once.
    recordProcessed: async (hash) => void (await redis.sadd(processed, hash)),
    processedCount: () => redis.scard(processed),
    // INCR reads and writes inside the server in one step.
    countRun: async () => void (await redis.incr(runs)),
    runs: async () => Number((await redis.get(runs)) ?? 0),
    close: async () => void (await redis.quit()),
  };
}
