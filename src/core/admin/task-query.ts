import { InvalidArgumentError } from '../errors.js';
import { TASK_STATES, type TaskState } from '../states.js';
import type { TaskQuery } from './admin-backend.js';

export const MAX_PAGE = 1000;

/** Every state at 0: the shape BrokerOverview.states has. */
export function emptyStateCounts(): Record<TaskState, number> {
  return Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
}

/** Refuses a TaskQuery a broker should not run, naming the field. */
export function checkTaskQuery(query: TaskQuery): void {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE) {
    throw new InvalidArgumentError('limit', `must be an integer from 1 to ${MAX_PAGE}, got ${String(query.limit)}`);
  }
  if (query.state !== undefined && !(TASK_STATES as readonly string[]).includes(query.state)) {
    throw new InvalidArgumentError('state', `must be one of ${TASK_STATES.join(', ')}, got ${JSON.stringify(query.state)}`);
  }
  for (const field of ['since', 'until'] as const) {
    const value = query[field];
    if (value !== undefined && !Number.isFinite(value))
      throw new InvalidArgumentError(field, `must be a time in ms, got ${String(value)}`);
  }
}
