import type { Db } from './database.js';

export interface EventRow {
  seq: number;
  task_id: string;
  revoked: 0 | 1;
  info: string;
  /** The task's tags as a JSON array, or null when it has none. */
  tags: string | null;
  /** 1 when this backend wrote it (its status and revocation listeners already heard it). */
  own: 0 | 1;
}

/**
 * The events table: every transition, written in the transaction that makes
 * it, so another process reading it in seq order sees commits in order
 * (SQLite has one writer at a time, so seq order is commit order). Its seq
 * is also the tag feeds' cursor.
 */
export class EventLog {
  private readonly insertStmt;
  private readonly sinceStmt;
  private readonly sinceTaggedStmt;
  private readonly lastStmt;
  private readonly pruneStmt;

  /** `origin` marks this backend's own rows, which it has already delivered in-process. */
  constructor(
    db: Db,
    private readonly origin: string,
  ) {
    this.insertStmt = db.prepare<[string, string, number, number, string, string | null]>(
      'INSERT INTO events (task_id, origin, at, revoked, info, tags) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.sinceStmt = db.prepare<[string, number, string], EventRow>(
      'SELECT seq, task_id, revoked, info, tags, origin = ? AS own FROM events WHERE seq > ? AND origin <> ? ORDER BY seq',
    );
    // tag listeners hear every tagged change from this table, own ones too, so all arrive in seq order
    this.sinceTaggedStmt = db.prepare<[string, number, string], EventRow>(
      `SELECT seq, task_id, revoked, info, tags, origin = ? AS own FROM events
       WHERE seq > ? AND (origin <> ? OR tags IS NOT NULL) ORDER BY seq`,
    );
    this.lastStmt = db.prepare<[], number | null>('SELECT MAX(seq) FROM events').pluck();
    this.pruneStmt = db.prepare<[number, number]>(
      'DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE at < ? LIMIT ?)',
    );
  }

  /** `info` is the TaskInfo JSON text after the transition, `tags` the task's as JSON; the new row's seq. */
  append(taskId: string, info: string, revoked: boolean, at: number, tags: string | null): number {
    return Number(this.insertStmt.run(taskId, this.origin, at, revoked ? 1 : 0, info, tags).lastInsertRowid);
  }

  /** Events after `seq`, oldest first: other backends' ones, and with `tagged` this one's tagged ones too. */
  since(seq: number, tagged: boolean): EventRow[] {
    return (tagged ? this.sinceTaggedStmt : this.sinceStmt).all(this.origin, seq, this.origin);
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
