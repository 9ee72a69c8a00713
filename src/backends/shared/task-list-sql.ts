import { parseTaskCursor, taskCursor, type TaskPage, type TaskQuery } from '../../core/admin/admin-backend.js';
import { checkTaskQuery } from '../../core/admin/task-query.js';
import type { TaskInfo } from '../../core/types.js';

/** One page of BackendAdmin.listTasks as SQL over a tasks table with the SQL brokers' column names. */
export interface TaskListSql {
  /** Conditions joined by AND (never empty: expired tasks are always left out). */
  where: string;
  /** The ORDER BY and LIMIT clause: newest enqueue first, ties by id descending, one row more than the page. */
  order: string;
  params: unknown[];
}

export interface TaskListDialect {
  /** The placeholder of the n-th (1-based) parameter: '?' or '$n'. */
  param(n: number): string;
  /** How the id column compares byte-wise (PostgreSQL: `id COLLATE "C"`), as the cursor helpers order ids. */
  id: string;
}

/**
 * Builds listTasks' statement parts from a TaskQuery; refuses a bad one with
 * an InvalidArgumentError (checkTaskQuery, parseTaskCursor). The keyset
 * condition is a row comparison so the (enqueued_at, id) index serves it.
 */
export function taskListSql(query: TaskQuery, now: number, dialect: TaskListDialect): TaskListSql {
  checkTaskQuery(query);
  const after = parseTaskCursor(query.cursor);
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return dialect.param(params.length);
  };
  const where = [`(purge_at IS NULL OR purge_at > ${p(now)})`];
  if (query.state !== undefined) where.push(`state = ${p(query.state)}`);
  if (query.name !== undefined) where.push(`name = ${p(query.name)}`);
  if (query.queue !== undefined) where.push(`queue = ${p(query.queue)}`);
  // enqueue times are whole ms: rounding up keeps >= and < exact, and a bigint column takes the value
  if (query.since !== undefined) where.push(`enqueued_at >= ${p(Math.ceil(query.since))}`);
  if (query.until !== undefined) where.push(`enqueued_at < ${p(Math.ceil(query.until))}`);
  if (after !== undefined) where.push(`(enqueued_at, ${dialect.id}) < (${p(after.enqueuedAt)}, ${p(after.id)})`);
  const order = `ORDER BY enqueued_at DESC, ${dialect.id} DESC LIMIT ${p(query.limit + 1)}`;
  return { where: where.join(' AND '), order, params };
}

/** The page of `limit` from rows fetched with taskListSql (one more than the page when more follow). */
export function taskPage(infos: TaskInfo[], limit: number): TaskPage {
  const tasks = infos.slice(0, limit);
  const last = tasks.at(-1);
  return infos.length > limit && last ? { tasks, next: taskCursor(last) } : { tasks };
}
