import type { Db } from './database.js';

/** Deleting tasks whose result expired; their idempotency key goes with the row. */
export class MaintenanceQueries {
  private readonly pruneStmt;

  constructor(db: Db) {
    this.pruneStmt = db.prepare<[number], string>('DELETE FROM tasks WHERE purge_at <= ? RETURNING id').pluck();
  }

  /** The ids deleted. */
  pruneTasks(now: number): string[] {
    return this.pruneStmt.all(now);
  }
}
