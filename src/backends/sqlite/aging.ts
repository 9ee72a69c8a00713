import { ageStep } from '../../core/aging.js';
import type { Db } from './database.js';

interface AgingRow {
  seq: number;
  run_at: number;
  priority: number;
  aging_every: number;
  aging_step: number;
  aging_max: number;
  aging_next: number;
}

/** Backend.agePriorities: the waiting tasks whose raise time has come, raised as ageStep says. Run inside a write transaction. */
export class AgingQueries {
  private readonly dueStmt;
  private readonly anyDueStmt;
  private readonly raiseStmt;

  constructor(db: Db) {
    this.dueStmt = db.prepare<[{ now: number; limit: number }], AgingRow>(
      `SELECT seq, run_at, priority, aging_every, aging_step, aging_max, aging_next FROM tasks
       WHERE aging_next IS NOT NULL AND aging_next <= @now AND state IN ('PENDING', 'RETRY')
       ORDER BY aging_next LIMIT @limit`,
    );
    this.anyDueStmt = db
      .prepare<[number], number>(
        `SELECT 1 FROM tasks WHERE aging_next IS NOT NULL AND aging_next <= ? AND state IN ('PENDING', 'RETRY') LIMIT 1`,
      )
      .pluck();
    this.raiseStmt = db.prepare<[{ seq: number; priority: number; next: number | null }]>(
      'UPDATE tasks SET priority = @priority, aging_next = @next WHERE seq = @seq',
    );
  }

  /** Whether a sweep at `now` has anything to look at: read outside a write, so an idle sweep takes no write lock. */
  anyDue(now: number): boolean {
    return this.anyDueStmt.get(now) !== undefined;
  }

  /** How many tasks were raised. */
  sweep(now: number, limit: number): number {
    let raised = 0;
    for (const row of this.dueStmt.all({ now, limit })) {
      const { priority, next } = ageStep(
        {
          everyMs: row.aging_every,
          step: row.aging_step,
          max: row.aging_max,
          priority: row.priority,
          runAt: row.run_at,
          next: row.aging_next,
        },
        now,
      );
      this.raiseStmt.run({ seq: row.seq, priority, next });
      if (priority !== row.priority) raised++;
    }
    return raised;
  }
}
