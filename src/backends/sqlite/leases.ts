import type { Delivery } from '../../core/backend.js';
import type { Db } from './database.js';
import { deliveryParams, INFO_JSON, RUNNING_SQL } from './rows.js';

/** Lease upkeep: renewing live ones, and taking back the ones whose worker went silent. */
export class LeaseQueries {
  private readonly extendStmt;
  private readonly rescueStmt;

  constructor(db: Db) {
    // not a transition: no version bump, no event
    this.extendStmt = db.prepare<[ReturnType<typeof deliveryParams> & { until: number }]>(
      `UPDATE tasks SET lease_until = @until
       WHERE id = @id AND lease_owner = @owner AND attempts = @attempt AND ${RUNNING_SQL}`,
    );
    this.rescueStmt = db
      .prepare<[{ now: number }], string>(
        `UPDATE tasks SET state = 'PENDING', version = version + 1, run_at = @now, lease_owner = NULL, lease_until = NULL
       WHERE lease_until <= @now AND ${RUNNING_SQL}
       RETURNING ${INFO_JSON}`,
      )
      .pluck();
  }

  /** False when the lease is lost (revoked, finished or taken over). */
  extend(task: Delivery, until: number): boolean {
    return this.extendStmt.run({ ...deliveryParams(task), until }).changes > 0;
  }

  /** Expired leases back to PENDING, due now; their new TaskInfo JSON. */
  rescue(now: number): string[] {
    return this.rescueStmt.all({ now });
  }
}
