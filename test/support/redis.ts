import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, it } from 'vitest';

/** The Redis the tests use: $REDIS_URL, else the local default. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** A short-lived client that never retries (for checks and test-side inspection). */
export function testClient(url = REDIS_URL): Redis {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  return client;
}

/** True when a Redis answers PING at REDIS_URL within a second. */
export async function redisAvailable(url = REDIS_URL): Promise<boolean> {
  const client = testClient(url);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

const available = await redisAvailable();
const created: string[] = [];

/** A key prefix no other test uses; its keys are deleted after the describeRedis suite. */
export function uniquePrefix(label = 'test'): string {
  const prefix = `errand-${label}-${randomUUID().slice(0, 8)}`;
  created.push(prefix);
  return prefix;
}

/** The broker URL of a fresh prefix (for createApp). */
export function uniqueRedisUrl(label = 'test'): string {
  const url = new URL(REDIS_URL);
  url.searchParams.set('prefix', uniquePrefix(label));
  return url.toString();
}

/** Deletes every key of `prefix` ('{prefix}:…'). */
export async function cleanupPrefix(prefix: string): Promise<void> {
  const client = testClient();
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/**
 * A describe block that needs Redis at REDIS_URL: runs when it answers,
 * fails when it does not and CI=true, else is skipped with a printed reason.
 * Keys of every uniquePrefix() made meanwhile are deleted afterwards.
 */
export function describeRedis(name: string, fn: () => void): void {
  if (available) {
    describe(name, () => {
      afterAll(async () => {
        for (const prefix of created.splice(0)) await cleanupPrefix(prefix);
      });
      fn();
    });
    return;
  }
  const reason = `Redis is not reachable at ${REDIS_URL} (set REDIS_URL or start redis-server)`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Redis', () => {
        throw new Error(`${reason}; CI=true, so this fails instead of skipping`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${reason}`);
  describe.skip(name, fn);
}
