import { useEffect, useRef, useState } from 'react';
import type { StatusOf, TypedTask } from '../client/index.js';
import { followTask, type FollowTaskOptions } from './follow-task.js';
import { initialStatus, type TaskStatus } from './task-status.js';

export type UseTaskStatusOptions<T extends TypedTask = TypedTask> = FollowTaskOptions<T>;

/**
 * Follows a task's status: WebSocket, falling back to SSE, then polling
 * (errand/client's watchTask). Stops after the terminal state, pauses while
 * the tab is hidden, and closes its connection on unmount and when `id`
 * changes. `useTaskStatus<typeof task>(id)` types `result` and
 * `progress.meta` from the task definition (import it with `import type`).
 * A null or undefined id follows nothing (connection 'idle').
 */
export function useTaskStatus<T extends TypedTask = TypedTask>(
  id: string | null | undefined,
  options: UseTaskStatusOptions<T> = {},
): TaskStatus<T> {
  const { transport, baseUrl, pollIntervalMs, pauseWhenHidden } = options;
  const [status, setStatus] = useState<TaskStatus<T>>(() => initialStatus<T>(id));
  // The newest onUpdate, without restarting the watch when the caller passes a new function each render.
  const onUpdate = useRef(options.onUpdate);
  useEffect(() => {
    onUpdate.current = options.onUpdate;
  });

  useEffect(() => {
    if (!id) return;
    const update = (message: StatusOf<T>): void => onUpdate.current?.(message);
    return followTask<T>(id, { transport, baseUrl, pollIntervalMs, pauseWhenHidden, onUpdate: update }, setStatus);
  }, [id, transport, baseUrl, pollIntervalMs, pauseWhenHidden]);

  // Until the effect for a new id has run, the state still describes the previous one.
  return status.id === (id || undefined) ? status : initialStatus<T>(id);
}
