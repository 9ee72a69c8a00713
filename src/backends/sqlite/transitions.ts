import type { ClaimedTask } from '../../core/backend.js';
import type { Db } from './database.js';
import { CLAIMABLE_SQL, deliveryParams, INFO_JSON, type InfoRow, RUNNING_SQL } from './rows.js';

/** Only the live delivery may move a task: same lease owner, same attempt, still running. */
const LIVE_DELIVERY = `id = @id AND lease_owner = @owner AND attempts = @attempt AND ${RUNNING_SQL}`;
/** A success also counts from an earlier delivery while the task has not finished (see Backend.complete). */
const MAY_SUCCEED = `id = @id AND ((lease_owner = @owner AND attempts = @attempt AND ${RUNNING_SQL})
  OR (state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED') AND (attempts > @attempt OR (attempts = @attempt AND NOT ${RUNNING_SQL}))))`;
const DROP_LEASE = 'lease_owner = NULL, lease_until = NULL';
const FINISH = `finished_at = @now, purge_at = @purgeAt, ${DROP_LEASE}`;
const REVOKE = `state = 'REVOKED', ${FINISH}`;
/** A finished task run again (BackendAdmin.retryTasks): its follow-up came already and is not armed again, nor is it debounced. */
const RERUN = `state = 'PENDING', run_at = @now, retries = 0, error_json = NULL, result_json = NULL,
  started_at = NULL, finished_at = NULL, purge_at = NULL, follow_up = NULL, debounce_key = NULL, ${DROP_LEASE}`;

type Live = ReturnType<typeof deliveryParams>;
type Finish = { now: number; purgeAt: number };

/** A terminal transition: the new TaskInfo JSON, and the task's follow-up (JSON) for the caller to enqueue. */
export interface Finished {
  info: string;
  followUp: string | null;
}

/**
 * Single-task state changes. Each is one UPDATE … RETURNING that bumps the
 * version and yields the new TaskInfo JSON; undefined means the row did not
 * qualify (a stale delivery, or an unknown or finished task). Terminal ones
 * only match unfinished rows, so the follow-up they return comes once.
 */
export class TransitionQueries {
  private readonly getStmt;
  private readonly progressStmt;
  private readonly completeStmt;
  private readonly failStmt;
  private readonly retryStmt;
  private readonly releaseStmt;
  private readonly revokeStmt;
  private readonly revokeWaitingStmt;
  private readonly rerunStmt;
  private readonly wakeStmt;

  constructor(db: Db) {
    const update = <P extends object>(set: string, where = LIVE_DELIVERY) =>
      db.prepare<[P], string>(`UPDATE tasks SET version = version + 1, ${set} WHERE ${where} RETURNING ${INFO_JSON}`).pluck();
    // raw rows (arrays): the one extra column costs no row object
    const finish = <P extends object>(set: string, where = LIVE_DELIVERY) =>
      db
        .prepare<[P], [string, string | null]>(
          `UPDATE tasks SET version = version + 1, ${set} WHERE ${where} RETURNING ${INFO_JSON}, follow_up`,
        )
        .raw();
    this.getStmt = db.prepare<[string], InfoRow>(`SELECT state, purge_at, ${INFO_JSON} AS info FROM tasks WHERE id = ?`);
    this.progressStmt = update<Live & { progress: string }>(`state = 'PROGRESS', progress_json = @progress`);
    this.completeStmt = finish<Live & Finish & { result: string }>(
      `state = 'SUCCESS', result_json = @result, ${FINISH}`,
      MAY_SUCCEED,
    );
    this.failStmt = finish<Live & Finish & { error: string }>(`state = 'FAILURE', error_json = @error, ${FINISH}`);
    this.retryStmt = update<Live & { error: string; runAt: number }>(
      `state = 'RETRY', error_json = @error, run_at = @runAt, retries = retries + 1, ${DROP_LEASE}`,
    );
    this.releaseStmt = update<Live & { now: number }>(`state = 'PENDING', attempts = attempts - 1, run_at = @now, ${DROP_LEASE}`);
    this.revokeStmt = finish<{ id: string } & Finish>(REVOKE, `id = @id AND state NOT IN ('SUCCESS', 'FAILURE', 'REVOKED')`);
    // walks the claimable index of one queue in claim order, due or not
    this.revokeWaitingStmt = finish<{ queue: string; limit: number } & Finish>(
      REVOKE,
      `seq IN (SELECT seq FROM tasks WHERE queue = @queue AND ${CLAIMABLE_SQL} ORDER BY run_at, seq LIMIT @limit)`,
    );
    this.wakeStmt = update<{ id: string; now: number }>(
      'run_at = @now',
      `id = @id AND state IN ('PENDING', 'RETRY') AND run_at > @now AND (purge_at IS NULL OR purge_at > @now)`,
    );
    this.rerunStmt = update<{ id: string; now: number }>(
      RERUN,
      `id = @id AND state IN ('FAILURE', 'REVOKED') AND (purge_at IS NULL OR purge_at > @now)`,
    );
  }

  get(id: string): InfoRow | undefined {
    return this.getStmt.get(id);
  }

  progress(task: ClaimedTask, progressJson: string): string | undefined {
    return this.progressStmt.get({ ...deliveryParams(task), progress: progressJson });
  }

  complete(task: ClaimedTask, resultJson: string, now: number, purgeAt: number): Finished | undefined {
    return finished(this.completeStmt.get({ ...deliveryParams(task), result: resultJson, now, purgeAt }));
  }

  fail(task: ClaimedTask, errorJson: string, now: number, purgeAt: number): Finished | undefined {
    return finished(this.failStmt.get({ ...deliveryParams(task), error: errorJson, now, purgeAt }));
  }

  retry(task: ClaimedTask, errorJson: string, runAt: number): string | undefined {
    return this.retryStmt.get({ ...deliveryParams(task), error: errorJson, runAt });
  }

  /** PENDING again, due at `runAt`. */
  release(task: ClaimedTask, runAt: number): string | undefined {
    return this.releaseStmt.get({ ...deliveryParams(task), now: runAt });
  }

  /** A waiting task due later, due at `now` (Backend.wake). */
  wake(id: string, now: number): string | undefined {
    return this.wakeStmt.get({ id, now });
  }

  /** REVOKED unless already finished. */
  revoke(id: string, now: number, purgeAt: number): Finished | undefined {
    return finished(this.revokeStmt.get({ id, now, purgeAt }));
  }

  /** Up to `limit` waiting (PENDING or RETRY, due or not) tasks of `queue` REVOKED. */
  revokeWaiting(queue: string, limit: number, now: number, purgeAt: number): Finished[] {
    return this.revokeWaitingStmt.all({ queue, limit, now, purgeAt }).map((row) => finished(row)!);
  }

  /** A kept FAILURE or REVOKED task back to PENDING, due now; its new TaskInfo JSON. */
  rerun(id: string, now: number): string | undefined {
    return this.rerunStmt.get({ id, now });
  }
}

function finished(row: [string, string | null] | undefined): Finished | undefined {
  return row && { info: row[0], followUp: row[1] };
}
