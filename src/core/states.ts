/** Task states, as Celery names them. */
export const TASK_STATES = ['PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** A state after which nothing changes any more. */
export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

/** States in which a worker holds the task under a lease. */
export const RUNNING_STATES: ReadonlySet<TaskState> = new Set(['STARTED', 'PROGRESS']);
