import type { Db } from './database.js';

/**
 * Deleting what expired: tasks whose result expired (their idempotency key
 * goes with the row, their tag rows with the tasks_untag trigger, same
 * statement), BackendAdmin's records and counters past their time, and
 * rate-limit keys idle past their longest window and any hold.
 */
export class MaintenanceQueries {
  private readonly pruneStmt;
  private readonly pruneRecordsStmt;
  private readonly pruneCountersStmt;
  private readonly pruneRateKeysStmt;

  constructor(db: Db) {
    this.pruneStmt = db.prepare<[number, number]>(
      'DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE purge_at <= ? LIMIT ?)',
    );
    this.pruneRecordsStmt = db.prepare<[number, number]>(
      'DELETE FROM admin_records WHERE (kind, id) IN (SELECT kind, id FROM admin_records WHERE expires_at <= ? LIMIT ?)',
    );
    this.pruneCountersStmt = db.prepare<[number, number]>(
      'DELETE FROM admin_counters WHERE (bucket, key) IN (SELECT bucket, key FROM admin_counters WHERE drop_at <= ? LIMIT ?)',
    );
    this.pruneRateKeysStmt = db.prepare<[number, number]>(
      'DELETE FROM rate_keys WHERE key IN (SELECT key FROM rate_keys WHERE idle_at <= ? LIMIT ?)',
    );
  }

  /** Deletes up to `limit` expired tasks; the number deleted. */
  pruneTasks(now: number, limit: number): number {
    return this.pruneStmt.run(now, limit).changes;
  }

  /** Deletes up to `limit` expired records and up to `limit` dropped counters; the larger number deleted. */
  pruneBookkeeping(now: number, limit: number): number {
    return Math.max(
      this.pruneRecordsStmt.run(now, limit).changes,
      this.pruneCountersStmt.run(now, limit).changes,
      this.pruneRateKeysStmt.run(now, limit).changes,
    );
  }
}
