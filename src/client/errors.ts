/**
 * not_found: no such task (or its result expired); bad_request: not a task id;
 * unauthorized / forbidden: the server's authorize refused (401 / 403);
 * closed: the watch was closed before the task ended.
 */
export type TaskWatchErrorCode = 'not_found' | 'bad_request' | 'unauthorized' | 'forbidden' | 'closed';

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
