// The image store on a SQLite file of its own, opened by every worker process.
import Database from 'better-sqlite3';
import type { ImageStore } from './image-store.js';

export function openSqliteImageStore(path: string): ImageStore {
  const db = new Database(path);
  // Several processes write at once: WAL lets readers go on, busy_timeout makes writers queue instead of failing.
  db.pragma('busy_timeout = 10000');
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS processed_images (
      hash TEXT PRIMARY KEY,
      path TEXT NOT NULL,
      completed_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
    INSERT OR IGNORE INTO counters (name, n) VALUES ('runs', 0);
  `);
  // An upsert: a second worker processing the same image overwrites the row instead of adding one.
  const upsert = db.prepare(
    `INSERT INTO processed_images (hash, path, completed_at) VALUES (?, ?, ?)
     ON CONFLICT (hash) DO UPDATE SET path = excluded.path, completed_at = excluded.completed_at`,
  );
  const count = db.prepare('SELECT COUNT(*) AS n FROM processed_images');
  // Read and write in one statement: no other writer can come between them.
  const increment = db.prepare("UPDATE counters SET n = n + 1 WHERE name = 'runs'");
  const readRuns = db.prepare("SELECT n FROM counters WHERE name = 'runs'");
  return {
    recordProcessed: async (hash, path) => void upsert.run(hash, path, Date.now()),
    processedCount: async () => (count.get() as { n: number }).n,
    countRun: async () => void increment.run(),
    runs: async () => (readRuns.get() as { n: number }).n,
    close: async () => void db.close(),
  };
}
