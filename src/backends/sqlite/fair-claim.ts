import { CLAIM_RETURNING, EXPIRED_ERROR, LEASE_SET, type TakeParams } from './claim.js';
import type { Db } from './database.js';
import { RateLimitQueries } from './rate-limits.js';
import { CLAIMABLE_SQL, type ClaimRow, RUNNING_SQL } from './rows.js';

interface Head {
  seq: number;
  run_at: number;
  limits: string | null;
  rate_limits: string | null;
}

/** The rotation's next turn in a queue's priority (the write lock makes max + 1 safe). */
const NEXT_TURN = '(SELECT ifnull(MAX(turn), 0) + 1 FROM fair_turns WHERE queue = @queue AND priority = @priority)';
/**
 * Enqueue of a flow-controlled task (before its insert): its group joins the
 * rotation at the back, unless tasks of it are waiting already.
 */
export const JOIN_SQL = `INSERT INTO fair_turns (queue, priority, fair_group, turn) VALUES (@queue, @priority, @group, ${NEXT_TURN})
  ON CONFLICT DO UPDATE SET turn = excluded.turn
  WHERE NOT EXISTS (SELECT 1 FROM tasks INDEXED BY tasks_fair WHERE queue = @queue AND ${CLAIMABLE_SQL}
    AND fair_group IS NOT NULL AND priority = @priority AND fair_group = @group)`;
/** A finished task run again (BackendAdmin.retryTasks): its group may have left the rotation meanwhile. */
const REJOIN_SQL = `INSERT INTO fair_turns (queue, priority, fair_group, turn)
  SELECT queue, priority, fair_group,
    (SELECT ifnull(MAX(turn), 0) + 1 FROM fair_turns f WHERE f.queue = tasks.queue AND f.priority = tasks.priority)
  FROM tasks WHERE id = @id AND fair_group IS NOT NULL
  ON CONFLICT DO NOTHING`;
const RUNNING_KEY = (n: number) =>
  `(SELECT COUNT(*) FROM tasks INDEXED BY tasks_running_key${n} WHERE limit_key${n} = @key AND limit_key${n} IS NOT NULL AND ${RUNNING_SQL})`;

const FAIR = `queue = @queue AND ${CLAIMABLE_SQL} AND fair_group IS NOT NULL`;
const PLAIN = `queue = @queue AND ${CLAIMABLE_SQL} AND fair_group IS NULL`;
/** Groups read per statement as a lane is walked in turn order. */
const TURNS_PAGE = 32;
/** Above every priority (MAX_PRIORITY is 1000). */
const TOP = 1e9;

/**
 * The claim of a queue that has flow-controlled tasks waiting (NewTask.group,
 * limits): a loop of index probes inside the claim's write transaction, one
 * per group head, so a saturated key's waiting tasks cost one probe however
 * many there are. Priority lanes highest first; in a lane the groups by
 * turn (fair_turns), each group's due head leased unless its limits are full
 * (then the group waits, the others go on). Tasks without a group are the ''
 * group: flow-controlled ones in tasks_fair, plain ones in tasks_ready.
 */
export class FairClaimQueries {
  private readonly activeStmt;
  private readonly pausedStmt;
  private readonly fairTopStmt;
  private readonly plainTopStmt;
  private readonly turnsStmt;
  private readonly hasTurnStmt;
  private readonly groupHeadStmt;
  private readonly plainHeadStmt;
  private readonly runningStmt;
  private readonly groupRunsStmt;
  private readonly leaseStmt;
  private readonly servedStmt;
  private readonly dropTurnStmt;
  private readonly rejoinStmt;
  /** Rate-limit state per key (NewTask.rateLimits, holds). */
  readonly rates: RateLimitQueries;

  constructor(db: Db) {
    this.rates = new RateLimitQueries(db);
    this.activeStmt = db
      .prepare<[{ queue: string }], number>(`SELECT 1 FROM tasks INDEXED BY tasks_fair WHERE ${FAIR} LIMIT 1`)
      .pluck();
    this.pausedStmt = db.prepare<[string], number>('SELECT 1 FROM paused_queues WHERE queue = ?').pluck();
    const top = (index: string, where: string) =>
      db
        .prepare<[{ queue: string; below: number }], number>(
          `SELECT priority FROM tasks INDEXED BY ${index} WHERE ${where} AND priority < @below ORDER BY priority DESC LIMIT 1`,
        )
        .pluck();
    this.fairTopStmt = top('tasks_fair', FAIR);
    this.plainTopStmt = top('tasks_ready', PLAIN);
    this.turnsStmt = db.prepare<[{ queue: string; priority: number; after: number }], { fair_group: string; turn: number }>(
      `SELECT fair_group, turn FROM fair_turns WHERE queue = @queue AND priority = @priority AND turn > @after
       ORDER BY turn LIMIT ${TURNS_PAGE}`,
    );
    this.hasTurnStmt = db
      .prepare<[{ queue: string; priority: number }], number>(
        `SELECT 1 FROM fair_turns WHERE queue = @queue AND priority = @priority AND fair_group = ''`,
      )
      .pluck();
    this.groupHeadStmt = db.prepare<[{ queue: string; priority: number; group: string }], Head>(
      `SELECT seq, run_at, limits, rate_limits FROM tasks INDEXED BY tasks_fair
       WHERE ${FAIR} AND priority = @priority AND fair_group = @group ORDER BY run_at, seq LIMIT 1`,
    );
    this.plainHeadStmt = db.prepare<[{ queue: string; priority: number }], Head>(
      `SELECT seq, run_at, NULL AS limits, NULL AS rate_limits FROM tasks INDEXED BY tasks_ready
       WHERE ${PLAIN} AND priority = @priority ORDER BY run_at, seq LIMIT 1`,
    );
    // running tasks holding a key, whichever of its 4 limit columns holds it
    this.runningStmt = db.prepare<[{ key: string }], number>(`SELECT ${[1, 2, 3, 4].map(RUNNING_KEY).join(' + ')}`).pluck();
    this.groupRunsStmt = db
      .prepare<[{ queue: string; priority: number; group: string }], number>(
        `SELECT 1 FROM tasks INDEXED BY tasks_fair_running
         WHERE queue = @queue AND priority = @priority AND fair_group = @group AND fair_group IS NOT NULL AND ${RUNNING_SQL}`,
      )
      .pluck();
    // STARTED puts the row in the tasks_running_key indexes: the slots are taken in the same statement
    this.leaseStmt = db.prepare<[Omit<TakeParams, 'queue' | 'limit'> & { seq: number; expiredError: string }], ClaimRow>(
      `UPDATE tasks SET ${LEASE_SET} WHERE seq = @seq RETURNING ${CLAIM_RETURNING}, limits IS NOT NULL AS limited`,
    );
    // the write lock makes max + 1 safe
    this.servedStmt = db.prepare<[{ queue: string; priority: number; group: string }]>(
      `INSERT INTO fair_turns (queue, priority, fair_group, turn)
       VALUES (@queue, @priority, @group, ${NEXT_TURN}) ON CONFLICT DO UPDATE SET turn = excluded.turn`,
    );
    this.rejoinStmt = db.prepare<[{ id: string }]>(REJOIN_SQL);
    this.dropTurnStmt = db.prepare<[{ queue: string; priority: number; group: string }]>(
      'DELETE FROM fair_turns WHERE queue = @queue AND priority = @priority AND fair_group = @group',
    );
  }

  /** A task run again (retryTasks): its group back in the rotation if it left. */
  rejoin(id: string): void {
    this.rejoinStmt.run({ id });
  }

  /** Whether `queue` has flow-controlled tasks waiting (one probe of an index that holds only those). */
  active(queue: string): boolean {
    return this.activeStmt.get({ queue }) !== undefined;
  }

  /**
   * Leases (or expires) up to `limit` due tasks of one flow-active queue;
   * `blocked` when a due task was held back by its limits or rate limits
   * (the claim then waits for a slot to free rather than for a due time),
   * `readyAt` the earliest time a task held back by a rate limit may go.
   */
  take(params: TakeParams): { rows: ClaimRow[]; blocked: boolean; readyAt: number } {
    const rows: ClaimRow[] = [];
    const state = { blocked: false, readyAt: Infinity };
    if (this.pausedStmt.get(params.queue) !== undefined) return { rows, ...state };
    for (let below = TOP; rows.length < params.limit;) {
      const { queue } = params;
      const priority = maxOf(this.fairTopStmt.get({ queue, below }), this.plainTopStmt.get({ queue, below }));
      if (priority === undefined) break;
      this.lane(params, priority, rows, state);
      below = priority;
    }
    return { rows, ...state };
  }

  /**
   * One priority of the queue: groups in turn order, a page at a time; a
   * served group takes the last turn, so the walk meets it again after the
   * others (the rotation) and ends after a pass that served nobody. Notes
   * in `state` a due head held back by its limits or rate limits.
   */
  private lane(params: TakeParams, priority: number, rows: ClaimRow[], state: { blocked: boolean; readyAt: number }): void {
    const { queue, now } = params;
    const { queue: _q, limit: _l, ...lease } = params;
    // plain tasks never write fair_turns (they pay nothing): their '' group joins here
    if (this.hasTurnStmt.get({ queue, priority }) === undefined && this.plainHeadStmt.get({ queue, priority }) !== undefined) {
      this.servedStmt.run({ queue, priority, group: '' });
    }
    for (let after = -Infinity; rows.length < params.limit;) {
      const page = this.turnsStmt.all({ queue, priority, after });
      if (page.length === 0) break;
      for (const { fair_group: group, turn } of page) {
        if (rows.length >= params.limit) break;
        after = turn;
        // an expired head is revoked and the group's next one looked at
        while (rows.length < params.limit) {
          const head = this.head(queue, priority, group);
          // nothing waiting: the group leaves the rotation unless a task of it runs (it may come back)
          if (head === undefined) {
            if (this.groupRunsStmt.get({ queue, priority, group }) === undefined)
              this.dropTurnStmt.run({ queue, priority, group });
          }
          // not due (the group's earliest is not), or its limits are full: the group waits, the others go on
          else if (head.limits !== null && head.run_at <= now && !this.fits(head.limits)) state.blocked = true;
          else if (head.run_at <= now) {
            const rates = this.rates.parse(head.rate_limits);
            const wait = rates === undefined ? 0 : this.rates.wait(rates, now);
            if (wait > 0) {
              state.blocked = true;
              state.readyAt = Math.min(state.readyAt, now + wait);
              break;
            }
            const row = this.leaseStmt.get({ ...lease, seq: head.seq, expiredError: EXPIRED_ERROR })!;
            rows.push(row);
            if (row.state !== 'STARTED') continue;
            if (rates !== undefined) this.rates.hit(rates, now);
            this.servedStmt.run({ queue, priority, group });
          }
          break;
        }
      }
    }
  }

  /** The group's first waiting task in due order ('' also holds the plain tasks). */
  private head(queue: string, priority: number, group: string): Head | undefined {
    const head = this.groupHeadStmt.get({ queue, priority, group });
    if (group !== '') return head;
    const plain = this.plainHeadStmt.get({ queue, priority });
    if (head === undefined || plain === undefined) return head ?? plain;
    return plain.run_at < head.run_at || (plain.run_at === head.run_at && plain.seq < head.seq) ? plain : head;
  }

  private fits(limitsJson: string): boolean {
    let limits: Array<{ key: string; limit: number }>;
    try {
      limits = JSON.parse(limitsJson) as typeof limits;
    } catch {
      return true; // a raw client's garbage: no limit to keep
    }
    return !Array.isArray(limits) || limits.every(({ key, limit }) => (this.runningStmt.get({ key }) ?? 0) < limit);
  }
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
