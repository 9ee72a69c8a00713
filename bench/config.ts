import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Everything the harness talks to. Loopback only. */
export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6379);
/** A bench-only database: it is flushed between systems. Never 0. */
export const REDIS_DB = Number(process.env.BENCH_REDIS_DB ?? 15);
if (!Number.isInteger(REDIS_DB) || REDIS_DB <= 0 || REDIS_DB > 15) {
  throw new Error(`BENCH_REDIS_DB must be a bench-only database number 1..15 (never 0), got ${process.env.BENCH_REDIS_DB}`);
}

/** Key prefixes; every key the systems write starts with one of them (db REDIS_DB holds nothing else). */
export const PREFIX = {
  errand: 'bench-errand',
  bullmq: 'bench-bull',
  beeQueue: 'bench-bq',
} as const;

export const QUEUE_NAME = 'bench';

export const SQLITE_DIR = join(tmpdir(), 'errand-bench');
export const SQLITE_FILE = join(SQLITE_DIR, 'bench.db');

export function errandRedisUrl(): string {
  return `redis://${REDIS_HOST}:${REDIS_PORT}/${REDIS_DB}?prefix=${PREFIX.errand}`;
}

export function errandSqliteUrl(): string {
  return `sqlite://${SQLITE_FILE}`;
}

export const redisOptions = { host: REDIS_HOST, port: REDIS_PORT, db: REDIS_DB };
