import type { NewTask } from './backend.js';
import type { TaskInfo } from './types.js';

/** The TaskInfo of a task just enqueued (PENDING, version 1), tags included when it has any. */
export function pendingInfo(task: NewTask): TaskInfo {
  const info: TaskInfo = {
    id: task.id,
    name: task.name,
    queue: task.queue,
    state: 'PENDING',
    version: 1,
    attempts: 0,
    retries: 0,
    enqueuedAt: task.enqueuedAt,
    runAt: task.runAt,
  };
  if (task.tags !== undefined && task.tags.length > 0) info.tags = [...task.tags];
  return info;
}
