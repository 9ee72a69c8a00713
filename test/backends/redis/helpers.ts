import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterEach } from 'vitest';
import type { NewTask } from '../../../src/core/backend.js';
import { RedisBackend } from '../../../src/backends/redis/index.js';
import { REDIS_URL, testClient, uniquePrefix } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';

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

/** A private, otherwise idle redis-server (so that INFO commandstats deltas are this test's alone). */
export interface PrivateRedis {
  url: string;
  /** Calls per command since the last reading (the INFO that reads them excluded). */
  commands(): Promise<Map<string, number>>;
  /** Calls of all commands together since the last reading (commands() or this). */
  commandTotal(): Promise<number>;
  close(): Promise<void>;
}

export function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}/0`;
  const client = testClient(url);
  await waitFor(
    async () =>
      client.connect().then(
        () => true,
        () => false,
      ),
    10_000,
    'private redis-server',
  );
  const read = async (): Promise<Map<string, number>> => {
    const counts = new Map<string, number>();
    for (const m of (await client.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) {
      counts.set(m[1]!, Number(m[2]));
    }
    return counts;
  };
  let last = await read();
  const commands = async (): Promise<Map<string, number>> => {
    const now = await read();
    const delta = new Map<string, number>();
    for (const [name, calls] of now) {
      // the INFO that read `last` is counted in this reading
      const n = calls - (last.get(name) ?? 0) - (name === 'info' ? 1 : 0);
      if (n > 0) delta.set(name, n);
    }
    last = now;
    return delta;
  };
  return {
    url,
    commands,
    async commandTotal() {
      let total = 0;
      for (const n of (await commands()).values()) total += n;
      return total;
    },
    async close() {
      client.disconnect();
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    },
  };
}
