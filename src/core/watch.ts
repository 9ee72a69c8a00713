import type { Backend } from './backend.js';
import { TaskNotFoundError } from './errors.js';
import { isTerminal } from './states.js';
import type { TaskInfo } from './types.js';
import { PushWaiter } from './push-waiter.js';

export interface WatchOptions {
  signal?: AbortSignal;
  /** Re-read the snapshot when no event came for this long, in case a push was lost (default 5000 ms). */
  resyncMs?: number;
}

/**
 * Yields the task's current TaskInfo, then each later version, and ends
 * after a terminal state. Subscribes before reading the snapshot, so no
 * update falls in between; a slow consumer skips to the latest version but
 * always gets the terminal one. Throws TaskNotFoundError for an unknown id.
 */
export async function* watchTask(backend: Backend, id: string, options: WatchOptions = {}): AsyncGenerator<TaskInfo> {
  const resyncMs = options.resyncMs ?? 5000;
  let latest: TaskInfo | undefined;
  const waiter = new PushWaiter();
  const offer = (info: TaskInfo): void => {
    if (!latest || info.version > latest.version) latest = info;
    waiter.wake();
  };
  const unsubscribe = await backend.subscribeStatus(id, offer);
  const onAbort = (): void => waiter.wake();
  options.signal?.addEventListener('abort', onAbort);
  try {
    const snapshot = await backend.getInfo(id);
    if (!snapshot) throw new TaskNotFoundError(id);
    offer(snapshot);
    let seen = 0;
    while (!options.signal?.aborted) {
      if (latest && latest.version > seen) {
        const info = latest;
        seen = info.version;
        yield info;
        if (isTerminal(info.state)) return;
        continue;
      }
      const pushed = await waiter.wait(resyncMs);
      if (!pushed && !options.signal?.aborted) {
        const fresh = await backend.getInfo(id);
        if (!fresh) throw new TaskNotFoundError(id);
        offer(fresh);
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await unsubscribe();
  }
}
