import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe } from 'vitest';
import { describePostgres, dropSchema, uniquePostgresUrl } from './postgres.js';
import { cleanupPrefix, describeRedis, uniqueRedisUrl } from './redis.js';

export type BrokerName = 'memory' | 'sqlite' | 'redis' | 'postgres';

/** A broker name as suites print it: one of BROKERS, or Redis Cluster (describeOnRedisCluster). */
export type TargetName = BrokerName | 'redis-cluster';

/**
 * A broker as the suites run it: how to make a fresh, isolated namespace
 * and drop it, what it can do, and the describe block that needs its server
 * (skipped without it, a failure in CI). A new broker is one entry here.
 */
export interface BrokerTarget {
  name: TargetName;
  /** Several processes can share it (a worker may run in a child process). */
  crossProcess: boolean;
  /** enqueue can write inside the caller's transaction. */
  transactionalEnqueue: boolean;
  /** A broker URL for a fresh namespace (a file, a key prefix, a schema). */
  makeUrl(label?: string): string;
  /** Drops what a URL from makeUrl left behind. */
  cleanup?(url: string): Promise<void>;
  /** A describe block that runs only where the broker's server is reachable (CI: fails otherwise). */
  describe(title: string, fn: () => void): void;
}

const sqliteFile = (label: string) => join(tmpdir(), `errand-${label}-${randomUUID()}`, 'errand.db');

export const BROKERS: ReadonlyArray<BrokerTarget & { name: BrokerName }> = [
  {
    name: 'memory',
    crossProcess: false,
    transactionalEnqueue: false,
    makeUrl: () => 'memory://',
    describe: (title, fn) => describe(title, fn),
  },
  {
    name: 'sqlite',
    crossProcess: true,
    transactionalEnqueue: false,
    // a directory of its own per URL, so the -wal and -shm files go with it
    makeUrl: (label = 'test') => `sqlite://${sqliteFile(label)}`,
    cleanup: async (url) => rmSync(dirname(url.slice('sqlite://'.length)), { recursive: true, force: true }),
    describe: (title, fn) => describe(title, fn),
  },
  {
    name: 'redis',
    crossProcess: true,
    transactionalEnqueue: false,
    makeUrl: (label = 'test') => uniqueRedisUrl(label),
    cleanup: async (url) => cleanupPrefix(new URL(url).searchParams.get('prefix')!),
    describe: describeRedis,
  },
  {
    name: 'postgres',
    crossProcess: true,
    transactionalEnqueue: true,
    makeUrl: (label = 'test') => uniquePostgresUrl(label),
    cleanup: async (url) => dropSchema(url),
    describe: describePostgres,
  },
];

export function broker(name: BrokerName): BrokerTarget {
  return BROKERS.find((b) => b.name === name)!;
}

/** Runs `fn` once per broker (or those named), each inside its broker's describe block. */
export function describeEachBroker(
  title: string,
  fn: (target: BrokerTarget) => void,
  only: readonly BrokerName[] = BROKERS.map((b) => b.name),
): void {
  for (const target of BROKERS) {
    if (only.includes(target.name)) target.describe(`${title}: ${target.name}`, () => fn(target));
  }
}

/**
 * Redis Cluster as a BrokerTarget, on a local 3-master cluster started for
 * the file that asks for it (await this at the top of the file) and stopped
 * at its end (test/support/redis-cluster.ts; skipped, or in CI failed, when
 * redis-server 7 is missing). Not in BROKERS: starting a cluster is dear, so
 * the suites that run on it ask for it.
 */
export async function describeOnRedisCluster(fn: (target: BrokerTarget) => void): Promise<void> {
  // imported here: the module looks for redis-server when loaded
  const { cleanupClusterUrl, describeRedisCluster } = await import('./redis-cluster.js');
  await describeRedisCluster('local Redis Cluster', (cluster) =>
    fn({
      name: 'redis-cluster',
      crossProcess: true,
      transactionalEnqueue: false,
      makeUrl: (label = 'test') => cluster.url(label),
      cleanup: cleanupClusterUrl,
      describe: (title, body) => describe(title, body),
    }),
  );
}
