import type { TaskState } from '../core/states.js';
import type { TaskInfo } from '../core/types.js';

/**
 * What poll, SSE and WebSocket send about a task: the Celery tutorials' `{ state, error }`
 * plus the version (for ETag / SSE id / dedupe), progress and the result.
 * src/client/types.ts re-declares it for the browser; keep the two identical.
 */
export interface StatusMessage {
  state: TaskState;
  version: number;
  /** The failure's message (FAILURE, and the last error while RETRY). */
  error?: string;
  /** The failure's error class name. */
  errorType?: string;
  progress?: { current: number; total?: number; meta?: unknown };
  /** The task's return value (SUCCESS only). */
  result?: unknown;
}

/** Maps a status record to the wire message; leaves out the fields a browser should not see (name, queue, times). */
export function statusMessage(info: TaskInfo): StatusMessage {
  const message: StatusMessage = { state: info.state, version: info.version };
  if (info.error && (info.state === 'FAILURE' || info.state === 'RETRY')) {
    message.error = info.error.message;
    message.errorType = info.error.type;
  }
  if (info.progress) {
    const { current, total, meta } = info.progress;
    message.progress = { current };
    if (total !== undefined) message.progress.total = total;
    if (meta !== undefined) message.progress.meta = meta;
  }
  if (info.state === 'SUCCESS' && info.result !== undefined) message.result = info.result;
  return message;
}
