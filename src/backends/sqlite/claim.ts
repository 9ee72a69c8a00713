import type { Db } from './database.js';
import { CLAIMABLE_SQL, type ClaimRow, INFO_JSON, PROBLEM_SQL } from './rows.js';

export interface TakeParams {
  queue: string;
  limit: number;
  owner: string;
  now: number;
  leaseUntil: number;
  /** purge time for tasks that expired before they started */
  purgeAt: number;
}

const EXPIRED = 'expires_at <= @now';
/** A paused queue hands out nothing (BackendAdmin.setQueuePaused); a constant per statement, so the claimable index still leads. */
export const NOT_PAUSED = 'NOT EXISTS (SELECT 1 FROM paused_queues p WHERE p.queue = @queue)';
/**
 * The first `limit` due plain tasks (no group, no limits) of one unpaused
 * queue: highest priority first, then in due order (tasks_ready's order).
 */
export const PICK_SQL = `SELECT seq FROM tasks INDEXED BY tasks_ready
  WHERE queue = @queue AND ${CLAIMABLE_SQL} AND fair_group IS NULL AND run_at <= @now AND ${NOT_PAUSED}
  ORDER BY priority DESC, run_at, seq LIMIT @limit`;
/**
 * Leases a picked task (STARTED) or, when it expired before starting, ends
 * it REVOKED (the caller then enqueues its follow-up).
 */
export const LEASE_SET = `state = CASE WHEN ${EXPIRED} THEN 'REVOKED' ELSE 'STARTED' END,
  version     = version + 1,
  attempts    = CASE WHEN ${EXPIRED} THEN attempts ELSE attempts + 1 END,
  started_at  = CASE WHEN ${EXPIRED} THEN started_at ELSE @now END,
  lease_owner = CASE WHEN ${EXPIRED} THEN NULL ELSE @owner END,
  lease_until = CASE WHEN ${EXPIRED} THEN NULL ELSE @leaseUntil END,
  finished_at = CASE WHEN ${EXPIRED} THEN @now ELSE finished_at END,
  purge_at    = CASE WHEN ${EXPIRED} THEN @purgeAt ELSE purge_at END,
  error_json  = CASE WHEN ${EXPIRED} THEN @expiredError ELSE error_json END`;
export const CLAIM_RETURNING = `seq, run_at, priority, state, CAST(payload AS TEXT) AS payload, ${INFO_JSON} AS info,
  ${PROBLEM_SQL} AS problem, follow_up, trace`;
export const EXPIRED_ERROR = JSON.stringify({ type: 'TaskExpired', message: 'the task expired before it started' });

/** Leasing due tasks. One statement per queue, so each walks the claimable index in due order. */
export class ClaimQueries {
  private readonly takeStmt;
  private readonly nextRunAtStmt;
  private readonly countStmt;

  constructor(db: Db) {
    // picks the first `limit` due tasks and, in the same statement, leases (or expires) them
    this.takeStmt = db.prepare<[TakeParams & { expiredError: string }], ClaimRow>(
      `UPDATE tasks SET ${LEASE_SET} WHERE seq IN (${PICK_SQL}) RETURNING ${CLAIM_RETURNING}`,
    );
    // a paused queue's due tasks must not look due, or a waiting claim would spin on them
    this.nextRunAtStmt = db
      .prepare<[{ queue: string; after: number }], number | null>(
        `SELECT MIN(run_at) FROM tasks WHERE queue = @queue AND ${CLAIMABLE_SQL} AND run_at > @after AND ${NOT_PAUSED}`,
      )
      .pluck();
    // Walks the partial claimable index only: finished tasks cost nothing.
    this.countStmt = db.prepare<[string], number>(`SELECT COUNT(*) FROM tasks WHERE queue = ? AND ${CLAIMABLE_SQL}`).pluck();
  }

  /** PENDING and RETRY tasks of `queue`, due or not. */
  countWaiting(queue: string): number {
    return this.countStmt.get(queue) ?? 0;
  }

  /** Leases (or expires) up to `limit` due tasks of one queue, highest priority first, then in due order. */
  take(params: TakeParams): ClaimRow[] {
    const rows = this.takeStmt.all({ ...params, expiredError: EXPIRED_ERROR });
    // RETURNING order is unspecified
    return rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.seq - b.seq);
  }

  /**
   * When the earliest claimable task of `queues` is due (maybe already), or
   * undefined when there is none; with `after`, the earliest due later than it
   * (what a claim whose due tasks are held back by their limits waits for).
   */
  nextRunAt(queues: readonly string[], after = -Infinity): number | undefined {
    let next: number | undefined;
    for (const queue of queues) {
      const at = this.nextRunAtStmt.get({ queue, after });
      if (at !== null && at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }
}
