import type { Db } from './database.js';

export interface EventRow {
  seq: number;
  task_id: string;
  revoked: 0 | 1;
  info: string;
}

/**
 * The events table: every transition, written in the transaction that makes
 * it, so another process reading it in seq order sees commits in order
 * (SQLite has one writer at a time, so seq order is commit order).
 */
export class EventLog {
  private readonly insertStmt;
  private readonly sinceStmt;
  private readonly lastStmt;
  private readonly pruneStmt;

  /** `origin` marks this backend's own rows, which it has already delivered in-process. */
  constructor(
    db: Db,
    private readonly origin: string,
  ) {
    this.insertStmt = db.prepare<[string, string, number, number, string]>(
      'INSERT INTO events (task_id, origin, at, revoked, info) VALUES (?, ?, ?, ?, ?)',
    );
    this.sinceStmt = db.prepare<[number, string], EventRow>(
      'SELECT seq, task_id, revoked, info FROM events WHERE seq > ? AND origin <> ? ORDER BY seq',
    );
    this.lastStmt = db.prepare<[], number | null>('SELECT MAX(seq) FROM events').pluck();
    this.pruneStmt = db.prepare<[number, number]>(
      'DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE at < ? LIMIT ?)',
    );
  }

  /** `info` is the TaskInfo JSON text after the transition. */
  append(taskId: string, info: string, revoked: boolean, at: number): void {
    this.insertStmt.run(taskId, this.origin, at, revoked ? 1 : 0, info);
  }

  /** Other backends' events after `seq`, oldest first. */
  since(seq: number): EventRow[] {
    return this.sinceStmt.all(seq, this.origin);
  }

  lastSeq(): number {
    return this.lastStmt.get() ?? 0;
  }

  /**
   * Drops up to `limit` events older than `before`; the number dropped. Events
   * of deleted tasks go the same way: a process that reads one late only hears
   * the task's true last state again.
   */
  prune(before: number, limit: number): number {
    return this.pruneStmt.run(before, limit).changes;
  }
}
