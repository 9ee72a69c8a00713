import type { Db } from './database.js';

/** Deleting tasks whose result expired; their idempotency key goes with the row, their tag rows with the tasks_untag trigger (same statement). */
export class MaintenanceQueries {
  private readonly pruneStmt;

  constructor(db: Db) {
    this.pruneStmt = db.prepare<[number, number]>(
      'DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE purge_at <= ? LIMIT ?)',
    );
  }

  /** Deletes up to `limit` expired tasks; the number deleted. */
  pruneTasks(now: number, limit: number): number {
    return this.pruneStmt.run(now, limit).changes;
  }
}
