/**
 * Where the flow benchmarks keep their data, and how they clean up: every
 * trial gets fresh storage (a Redis key prefix in db 13, a SQLite file in a
 * temporary directory, a PostgreSQL schema) and deletes it afterwards. Only
 * keys under this run's own prefix are ever deleted; nothing is flushed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

export const REDIS_DB = Number(process.env.BENCH_FLOW_REDIS_DB ?? 13);
if (!Number.isInteger(REDIS_DB) || REDIS_DB <= 0 || REDIS_DB > 15) throw new Error('BENCH_FLOW_REDIS_DB must be 1..15');
export const redisOptions = { host: '127.0.0.1', port: Number(process.env.BENCH_REDIS_PORT ?? 6379), db: REDIS_DB };
export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Every key, schema and file of this run starts with it. */
export const RUN = `bflow-${process.pid}`;
let sequence = 0;
const nextTag = (): string => `${RUN}-${++sequence}`;

export type BrokerName = 'memory' | 'sqlite' | 'redis' | 'postgres';

export interface Store {
  /** errand's broker URL. */
  url: string;
  /** Deletes what the trial stored. */
  cleanup(): Promise<void>;
}

/** Fresh storage for one errand trial. */
export function errandStore(broker: BrokerName): Store {
  const tag = nextTag();
  switch (broker) {
    case 'memory':
      return { url: 'memory://', cleanup: async () => {} };
    case 'sqlite': {
      const dir = mkdtempSync(join(tmpdir(), 'errand-bench-flow-'));
      return { url: `sqlite://${join(dir, 'flow.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    }
    case 'redis':
      // errand's keys are '{prefix}:…'
      return {
        url: `redis://${redisOptions.host}:${redisOptions.port}/${REDIS_DB}?prefix=${tag}`,
        cleanup: async () => void (await deleteKeys(`{${tag}}:*`)),
      };
    case 'postgres': {
      const schema = tag.replace(/-/g, '_');
      return { url: `${PG_URL}?schema=${schema}`, cleanup: () => dropSchema(schema) };
    }
  }
}

/** A fresh BullMQ prefix (keys '<prefix>:<queue>:…') and its cleanup. */
export function bullmqStore(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `${nextTag()}-bull`;
  return { prefix, cleanup: async () => void (await deleteKeys(`${prefix}:*`)) };
}

let admin: Redis | undefined;
function adminRedis(): Redis {
  admin ??= new Redis({ ...redisOptions, maxRetriesPerRequest: 2 });
  return admin;
}

/** Deletes the keys of db REDIS_DB matching `pattern` (always one of this run's prefixes). */
export async function deleteKeys(pattern: string): Promise<number> {
  if (!pattern.includes(RUN)) throw new Error(`refusing to delete keys outside this run: ${pattern}`);
  const redis = adminRedis();
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Removes anything of this run left behind by a trial that failed half-way, and closes the admin connection. */
export async function finalCleanup(): Promise<number> {
  const left = await deleteKeys(`*${RUN}-*`);
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [
      `${RUN.replace(/-/g, '_')}\\_%`,
    ]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`);
  } finally {
    await client.end();
  }
  await admin?.quit();
  admin = undefined;
  return left;
}

export async function redisVersion(): Promise<string> {
  const info = await adminRedis().info('server');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
}

export async function postgresVersion(): Promise<string> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    return String((await client.query('SHOW server_version')).rows[0].server_version);
  } finally {
    await client.end();
  }
}
