import { randomUUID } from 'node:crypto';
import { afterEach } from 'vitest';
import type { NewTask } from '../../../src/core/backend.js';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { REDIS_URL, testClient, uniquePrefix } from '../../support/redis.js';

/** Backends made in a test are closed after it. */
export function useBackends(): {
  make(options?: { prefix?: string; resultTtlMs?: number; deadLetterLimit?: number }): RedisBackend;
} {
  const open: RedisBackend[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });
  return {
    make(options = {}) {
      const backend = new RedisBackend({
        url: REDIS_URL,
        prefix: options.prefix ?? uniquePrefix('adapter'),
        resultTtlMs: options.resultTtlMs ?? 60_000,
        deadLetterLimit: options.deadLetterLimit ?? 100,
      });
      open.push(backend);
      return backend;
    },
  };
}

export function newTask(patch: Partial<NewTask> = {}): NewTask {
  const t = Date.now();
  return { id: randomUUID(), name: 'test.task', queue: 'default', payload: '[]', enqueuedAt: t, runAt: t, ...patch };
}

export async function withClient<T>(fn: (client: ReturnType<typeof testClient>) => Promise<T>): Promise<T> {
  const client = testClient();
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

export const claimReq = (workerId = 'w1', patch: Record<string, unknown> = {}) => ({
  workerId,
  queues: ['default'],
  limit: 50,
  leaseMs: 30_000,
  waitMs: 0,
  ...patch,
});
