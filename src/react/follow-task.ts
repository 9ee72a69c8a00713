import {
  watchTask,
  type StatusOf,
  type TaskWatch,
  type TaskWatchError,
  type TypedTask,
  type WatchTaskOptions,
} from '../client/index.js';
import { initialStatus, withMessage, type TaskStatus } from './task-status.js';

export interface FollowTaskOptions<T extends TypedTask = TypedTask> extends Pick<
  WatchTaskOptions<T>,
  'transport' | 'baseUrl' | 'pollIntervalMs'
> {
  /** Close the connection while the page is hidden and re-sync when it is visible again (default true). */
  pauseWhenHidden?: boolean;
  /** Called with each new message, in order. */
  onUpdate?(message: StatusOf<T>): void;
}

/**
 * Follows one task with errand/client's watchTask (ws → sse → poll) and
 * reports every change of its TaskStatus. While the document is hidden the
 * watch is closed; on visible a new one resumes after the last version seen
 * (its first message is the current state, if that changed). Stops after
 * the terminal state. Framework-free: useTaskStatus is a thin hook over it.
 * Returns the function that stops following.
 */
export function followTask<T extends TypedTask = TypedTask>(
  id: string,
  options: FollowTaskOptions<T>,
  onChange: (status: TaskStatus<T>) => void,
): () => void {
  const doc = typeof document === 'undefined' ? undefined : document;
  const pauses = options.pauseWhenHidden !== false && doc !== undefined;
  let status = initialStatus<T>(id);
  let watch: TaskWatch<T> | undefined;
  let generation = 0; // bumped by every pause and stop: callbacks of a closed watch are ignored
  let stopped = false;

  const set = (next: TaskStatus<T>): void => {
    status = next;
    onChange(status);
  };
  const finished = (): boolean => status.done || status.watchError !== undefined;

  const start = (): void => {
    const mine = ++generation;
    const live = (): boolean => !stopped && mine === generation;
    watch = watchTask<T>(id, {
      transport: options.transport,
      baseUrl: options.baseUrl,
      pollIntervalMs: options.pollIntervalMs,
      afterVersion: status.version,
      onConnection: (change) => {
        if (live()) set({ ...status, connection: change.state, transport: change.transport });
      },
      onUpdate: (message) => {
        if (!live() || message.version <= status.version) return;
        set(withMessage(status, message));
        if (status.done) release();
        options.onUpdate?.(message);
      },
    });
    watch.done.catch((error: TaskWatchError) => {
      if (!live() || error.code === 'closed') return;
      watch = undefined;
      set({ ...status, connection: 'error', watchError: error, error: error.message });
      release();
    });
  };

  const pause = (): void => {
    generation++;
    watch?.close();
    watch = undefined;
    set({ ...status, connection: 'paused' });
  };

  const onVisibility = (): void => {
    if (stopped || finished()) return;
    if (doc?.visibilityState === 'hidden') {
      if (watch) pause();
    } else if (!watch) start();
  };

  /** Drops what following holds once nothing more can change. */
  const release = (): void => {
    watch = undefined;
    if (pauses) doc.removeEventListener('visibilitychange', onVisibility);
  };

  if (pauses) doc.addEventListener('visibilitychange', onVisibility);
  if (pauses && doc.visibilityState === 'hidden') set({ ...status, connection: 'paused' });
  else start();

  return () => {
    if (stopped) return;
    stopped = true;
    generation++;
    watch?.close();
    release();
  };
}
