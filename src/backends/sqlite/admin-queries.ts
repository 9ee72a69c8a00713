import type { Statement } from 'better-sqlite3';
import type { TaskQuery } from '../../core/admin/admin-backend.js';
import { taskListSql } from '../shared/task-list-sql.js';
import type { Db } from './database.js';
import { INFO_JSON } from './rows.js';

/** One (queue, state) group of kept tasks, as overview reads it. */
export interface OverviewRow {
  queue: string;
  state: string;
  n: number;
  /** Of the group's waiting tasks: how many are due, and the earliest due time among those. */
  ready: number;
  oldest_ready: number | null;
}

export interface TaskRecordRow {
  purge_at: number | null;
  info: string;
  payload: string;
  trace: unknown;
  dead: 0 | 1;
}

const KEPT = '(purge_at IS NULL OR purge_at > @now)';
const WAITING = `state IN ('PENDING', 'RETRY')`;

/** BackendAdmin's reads over the tasks table, and the paused queues. */
export class AdminQueries {
  private readonly overviewStmt;
  private readonly recordStmt;
  private readonly pausedStmt;
  private readonly pauseStmt;
  private readonly resumeStmt;
  private readonly dropExpiredStmt;
  /** listTasks statements by SQL text: one per combination of filters. */
  private readonly lists = new Map<string, Statement<unknown[], string>>();

  constructor(private readonly db: Db) {
    // one pass over the table; admin only, never on the task path
    this.overviewStmt = db.prepare<[{ now: number }], OverviewRow>(
      `SELECT queue, state, COUNT(*) AS n,
         SUM(${WAITING} AND run_at <= @now) AS ready,
         MIN(CASE WHEN ${WAITING} AND run_at <= @now THEN run_at END) AS oldest_ready
       FROM tasks WHERE ${KEPT} GROUP BY queue, state`,
    );
    this.recordStmt = db.prepare<[{ id: string }], TaskRecordRow>(
      `SELECT purge_at, ${INFO_JSON} AS info, CAST(payload AS TEXT) AS payload, trace,
         EXISTS (SELECT 1 FROM dead_letters d WHERE d.id = tasks.id) AS dead
       FROM tasks WHERE id = @id`,
    );
    this.pausedStmt = db.prepare<[], string>('SELECT queue FROM paused_queues ORDER BY queue').pluck();
    this.pauseStmt = db.prepare<[string, number]>('INSERT OR IGNORE INTO paused_queues (queue, paused_at) VALUES (?, ?)');
    this.resumeStmt = db.prepare<[string]>('DELETE FROM paused_queues WHERE queue = ?');
    // a task whose result expired is unknown already; its row goes before a dead letter's task takes the id
    this.dropExpiredStmt = db.prepare<[string, number]>('DELETE FROM tasks WHERE id = ? AND purge_at <= ?');
  }

  overview(now: number): { rows: OverviewRow[]; paused: string[] } {
    // one read transaction: the counts and the paused queues from the same snapshot
    return this.db.transaction(() => ({ rows: this.overviewStmt.all({ now }), paused: this.pausedStmt.all() }))();
  }

  /** TaskInfo JSON of one page (one row more when more follow); an InvalidArgumentError for a bad query. */
  list(query: TaskQuery, now: number): string[] {
    const { where, order, params } = taskListSql(query, now, { param: () => '?', id: 'id' });
    const sql = `SELECT ${INFO_JSON} FROM tasks WHERE ${where} ${order}`;
    let stmt = this.lists.get(sql);
    if (!stmt) this.lists.set(sql, (stmt = this.db.prepare<unknown[], string>(sql).pluck()));
    return stmt.all(...params);
  }

  record(id: string): TaskRecordRow | undefined {
    return this.recordStmt.get({ id });
  }

  paused(): string[] {
    return this.pausedStmt.all();
  }

  setPaused(queue: string, paused: boolean, now: number): void {
    if (paused) this.pauseStmt.run(queue, now);
    else this.resumeStmt.run(queue);
  }

  dropExpired(id: string, now: number): void {
    this.dropExpiredStmt.run(id, now);
  }
}
