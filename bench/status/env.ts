import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the status benchmarks keep their data. Loopback only: Redis on
 * 127.0.0.1, every server a child process bound to 127.0.0.1.
 */
export const HOST = '127.0.0.1';
export const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6379);
/**
 * A bench-only Redis database (never 0). Nothing is flushed: every key these
 * benchmarks write starts with KEY_PREFIX and is deleted at the end.
 */
export const REDIS_DB = Number(process.env.BENCH_STATUS_REDIS_DB ?? 14);
if (!Number.isInteger(REDIS_DB) || REDIS_DB <= 0 || REDIS_DB > 15) {
  throw new Error(`BENCH_STATUS_REDIS_DB must be 1..15 (never 0), got ${process.env.BENCH_STATUS_REDIS_DB}`);
}

/** One run's key prefix: two runs (or a colleague's tests) never share keys. */
export const KEY_PREFIX = `bench-status-${process.pid}`;
export const SQLITE_DIR = join(tmpdir(), `errand-bench-status-${process.pid}`);

export type BrokerKind = 'redis' | 'sqlite';
export const BROKERS: readonly BrokerKind[] = ['redis', 'sqlite'];

/** A broker URL for one scenario (`label` keeps scenarios apart, so leftovers of one never disturb the next). */
export function brokerUrl(kind: BrokerKind, label: string): string {
  return kind === 'redis'
    ? `redis://${HOST}:${REDIS_PORT}/${REDIS_DB}?prefix=${KEY_PREFIX}-${label}`
    : `sqlite://${join(SQLITE_DIR, `${label}.db`)}`;
}

/** The Redis key of the ready queue 'default' of a scenario (see src/backends/redis/keys.ts). */
export function redisReadyKey(label: string): string {
  return `{${KEY_PREFIX}-${label}}:q:default`;
}
