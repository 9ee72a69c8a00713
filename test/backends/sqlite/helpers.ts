import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../../src/backends/sqlite/migrations/index.js';
import type { NewTask } from '../../../src/core/backend.js';
import { SqliteBackend, type SqliteBackendOptions } from '../../../src/backends/sqlite/index.js';

/** Opens backends on fresh temp files and closes/removes them all in cleanup(). */
export class BackendPool {
  private readonly backends: SqliteBackend[] = [];
  private readonly dirs: string[] = [];

  /** A new database file path in a temp directory of its own (for the -wal and -shm files). */
  newFile(): string {
    const dir = join(tmpdir(), `errand-sqlite-test-${randomUUID()}`);
    this.dirs.push(dir);
    return join(dir, 'nested', 'errand.db');
  }

  open(options: Partial<SqliteBackendOptions> = {}): SqliteBackend {
    const backend = new SqliteBackend({
      filename: options.filename ?? this.newFile(),
      resultTtlMs: 60_000,
      deadLetterLimit: 100,
      ...options,
    });
    this.backends.push(backend);
    return backend;
  }

  async cleanup(): Promise<void> {
    for (const backend of this.backends.splice(0)) await backend.close();
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `fn` on its own connection to the file (raw SQL beside the backend), then closes it. */
export function raw<T>(filename: string, fn: (db: Database.Database) => T): T {
  const db = new Database(filename);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** A new database file at schema `version` (the migrations up to it), for upgrade tests; `seed` writes rows in it. */
export function fileAtVersion(pool: BackendPool, version: number, seed: (db: Database.Database) => void): string {
  const filename = pool.newFile();
  mkdirSync(dirname(filename), { recursive: true });
  raw(filename, (db) => {
    for (const migration of MIGRATIONS.filter((m) => m.version <= version)) db.exec(migration.sql);
    db.pragma(`user_version = ${version}`);
    seed(db);
  });
  return filename;
}

export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  const at = Date.now();
  return { id: randomUUID(), name: 'test.task', queue: 'q', payload: '[1,"a"]', enqueuedAt: at, runAt: at, ...overrides };
}

export const claimRequest = (overrides: Partial<Parameters<SqliteBackend['claim']>[0]> = {}) => ({
  workerId: 'w1',
  queues: ['q'],
  limit: 10,
  leaseMs: 30_000,
  waitMs: 0,
  ...overrides,
});
