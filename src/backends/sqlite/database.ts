import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { sqliteDriver } from './driver.js';
import { MIGRATIONS } from './migrations/index.js';

export type Db = Database.Database;

/** How long opening keeps trying while other processes hold the file's locks. */
const OPEN_RETRY_MS = 10_000;

/** Opens (creating if needed) the shared database file and brings its schema up to date. */
export function openDatabase(filename: string): Db {
  if (filename !== ':memory:') mkdirSync(dirname(resolve(filename)), { recursive: true });
  const db = new (sqliteDriver())(filename);
  try {
    // Several processes share the file: wait for another's write lock instead of failing at once.
    db.pragma('busy_timeout = 5000');
    // WAL: readers never block the writer, and a commit is one append to the log.
    // Switching a new file to WAL needs its exclusive lock while holding a
    // shared one; when two processes do it at the same instant, SQLite returns
    // SQLITE_BUSY to one of them at once, without calling the busy handler (it
    // would deadlock). Hence the retries (the other process's switch wins).
    retryWhileBusy(() => db.pragma('journal_mode = WAL'));
    // NORMAL in WAL mode fsyncs at checkpoints, not at every commit: a commit
    // survives a crash of any process (the WAL is in the OS cache), and only
    // an OS crash or power cut may lose the last commits. FULL would cost an
    // fsync per enqueue/finish, capping throughput at the disk's sync rate.
    db.pragma('synchronous = NORMAL');
    // The WAL grows while readers keep a checkpoint from reaching its end (a
    // burst of work); without a limit the file keeps that size for ever.
    db.pragma('journal_size_limit = 67108864');
    retryWhileBusy(() => migrate(db));
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Applies the migrations newer than PRAGMA user_version, each in its own IMMEDIATE transaction. */
export function migrate(db: Db): void {
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  for (const migration of MIGRATIONS) {
    if (version() >= migration.version) continue;
    db.transaction(() => {
      // re-read under the write lock: another process may have just applied it
      if (version() >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

/**
 * Runs `fn` again while it fails with SQLITE_BUSY (any extended code), with a
 * jittered backoff of 1 ms doubling to 100 ms, for up to OPEN_RETRY_MS. Only
 * for idempotent steps: the journal-mode switch, and migrations (each
 * re-checks user_version under the write lock).
 */
function retryWhileBusy<T>(fn: () => T): T {
  const deadline = Date.now() + OPEN_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      sleepSync(Math.min(100, 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}

function isBusy(error: unknown): boolean {
  return error instanceof sqliteDriver().SqliteError && (error.code === 'SQLITE_BUSY' || error.code.startsWith('SQLITE_BUSY_'));
}

/** Opening is synchronous (the backend's constructor), so its backoff blocks too. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
