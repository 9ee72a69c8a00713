import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations/index.js';

export type Db = Database.Database;

/** Opens (creating if needed) the shared database file and brings its schema up to date. */
export function openDatabase(filename: string): Db {
  if (filename !== ':memory:') mkdirSync(dirname(resolve(filename)), { recursive: true });
  const db = new Database(filename);
  // Several processes share the file: wait for another's write lock instead of failing at once.
  db.pragma('busy_timeout = 5000');
  // WAL: readers never block the writer, and a commit is one append to the log.
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode fsyncs at checkpoints, not at every commit: a commit
  // survives a crash of any process (the WAL is in the OS cache), and only
  // an OS crash or power cut may lose the last commits. FULL would cost an
  // fsync per enqueue/finish, capping throughput at the disk's sync rate.
  db.pragma('synchronous = NORMAL');
  migrate(db);
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
