export type TaskWatchErrorCode = 'not_found' | 'bad_request' | 'closed';

/** Why watching a task stopped without a terminal state. */
export class TaskWatchError extends Error {
  constructor(
    readonly code: TaskWatchErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TaskWatchError';
  }
}
