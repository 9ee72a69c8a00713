import { parseTaskCursor, type TaskQuery } from '../../core/admin/admin-backend.js';
import { TASK_STATES, type TaskState } from '../../core/states.js';
import type { Errand } from '../../core/errand.js';
import { InvalidArgumentError } from '../../core/errors.js';
import type { WebRequest } from '../core/web-request.js';
import { intParam, queryParam } from './context.js';
import { LIST_PREVIEW_CHARS, detailView, preview, taskSummary } from './truncate.js';

/** The filter of the task list, from the query string (state, name, queue, cursor, limit). */
export function taskQueryOf(request: WebRequest): Partial<TaskQuery> {
  const query: Partial<TaskQuery> = { limit: intParam(request, 'limit', 50, 1, 200) };
  const state = queryParam(request, 'state');
  // checked here too, so the live stream refuses a bad filter before it starts
  if (state !== undefined && !(TASK_STATES as readonly string[]).includes(state)) {
    throw new InvalidArgumentError(
      'state',
      `must be one of ${TASK_STATES.join(', ')}, got ${JSON.stringify(state.slice(0, 40))}`,
    );
  }
  if (state !== undefined) query.state = state as TaskState;
  for (const field of ['name', 'queue', 'cursor'] as const) {
    const value = queryParam(request, field);
    if (value !== undefined) query[field] = value;
  }
  parseTaskCursor(query.cursor);
  return query;
}

/** A page of the task list as the browser gets it (results and errors cut). */
export async function taskList(app: Errand, query: Partial<TaskQuery>): Promise<Record<string, unknown>> {
  const page = await app.admin.tasks(query);
  return { tasks: page.tasks.map((info) => taskSummary(info)), next: page.next };
}

/** One task's detail view, or null when it is unknown or expired. */
export async function taskDetail(app: Errand, id: string): Promise<Record<string, unknown> | null> {
  if (id.length === 0 || id.length > 200) throw new InvalidArgumentError('id', 'must be a task id');
  const detail = await app.admin.task(id);
  return detail ? detailView(detail) : null;
}

export async function deadLetterList(app: Errand): Promise<unknown[]> {
  const letters = await app.admin.deadLetters(100);
  return letters.map(({ payload, error, ...rest }) => ({
    ...rest,
    error: { type: error.type.slice(0, 200), message: preview(error.message, LIST_PREVIEW_CHARS) },
    payload: preview(payload, LIST_PREVIEW_CHARS),
  }));
}

/**
 * Every panel the live stream sends, by event name; each read on its own so
 * one slow or failing panel does not hold back the others.
 */
export function panelReaders(app: Errand): Record<string, () => Promise<unknown>> {
  return {
    overview: () => app.admin.overview(),
    workers: async () => (await app.admin.workers()).map((w) => ({ ...w, running: w.running.slice(0, 50) })),
    deadLetters: () => deadLetterList(app),
    schedules: () => Promise.resolve(app.admin.schedules()),
    actions: () => app.admin.actions(50),
    history: () => app.admin.history(),
  };
}
