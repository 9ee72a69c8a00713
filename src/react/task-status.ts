import {
  isTerminalState,
  type ConnectionState,
  type ResultOf,
  type StatusOf,
  type TaskState,
  type TaskWatchError,
  type TransportName,
  type TypedTask,
} from '../client/index.js';

/**
 * Where following the task stands: 'idle' (no id), the watcher's own states
 * ('connecting', 'open', 'reconnecting'), 'paused' (the tab is hidden),
 * 'closed' (the terminal state arrived) or 'error' (the server refused the id).
 */
export type TaskConnection = 'idle' | ConnectionState | 'paused' | 'closed' | 'error';

/** What useTaskStatus returns. `T` is the task's type (`typeof task`); it types `result` and `progress.meta`. */
export interface TaskStatus<T extends TypedTask = TypedTask> {
  /** The task followed (undefined when none). */
  id: string | undefined;
  /** Undefined until the first message arrives. */
  state: TaskState | undefined;
  /** The newest version seen (0 before the first message). */
  version: number;
  /** The newest message as the server sent it. */
  message: StatusOf<T> | undefined;
  progress: StatusOf<T>['progress'];
  /** The task's return value, once SUCCESS. */
  result: ResultOf<T> | undefined;
  /** The task's error message (FAILURE, or the last error while RETRY), else why watching failed. */
  error: string | undefined;
  /** The task's error class name (FAILURE, RETRY). */
  errorType: string | undefined;
  /** Set when the server refused: code 'not_found', 'bad_request', 'unauthorized' or 'forbidden'. */
  watchError: TaskWatchError | undefined;
  connection: TaskConnection;
  /** The transport in use or being tried (undefined before the first connect). */
  transport: TransportName | undefined;
  /** True once the task reached SUCCESS, FAILURE or REVOKED: nothing more will change. */
  done: boolean;
}

/** The status before anything is known about `id`. */
export function initialStatus<T extends TypedTask>(id: string | null | undefined): TaskStatus<T> {
  return {
    id: id ?? undefined,
    state: undefined,
    version: 0,
    message: undefined,
    progress: undefined,
    result: undefined,
    error: undefined,
    errorType: undefined,
    watchError: undefined,
    connection: id ? 'connecting' : 'idle',
    transport: undefined,
    done: false,
  };
}

/** The status once `message` arrived. */
export function withMessage<T extends TypedTask>(status: TaskStatus<T>, message: StatusOf<T>): TaskStatus<T> {
  const done = isTerminalState(message.state);
  return {
    ...status,
    state: message.state,
    version: message.version,
    message,
    progress: message.progress,
    result: message.result,
    error: message.error,
    errorType: message.errorType,
    done,
    connection: done ? 'closed' : status.connection,
  };
}
