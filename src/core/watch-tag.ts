import type { Backend, TagFeedEntry } from './backend.js';
import { PushWaiter } from './push-waiter.js';
import { checkTag } from './tags.js';

export interface WatchTagOptions {
  /** Start after this cursor (a TagFeedEntry's): only later changes (default 0, everything kept). */
  after?: number;
  signal?: AbortSignal;
  /** Re-read the feed when no event came for this long, in case a push was lost (default 5000 ms). */
  resyncMs?: number;
}

/** Tasks read per page while catching up. */
const PAGE = 500;

/**
 * Yields the changes of every task carrying `tag`: first what the feed
 * holds after `after` (each task once, at its latest state), then each
 * live change, in cursor order, until `signal` aborts. Subscribes before
 * reading, so no change falls in between; a slow consumer skips to the
 * latest state of each task but never misses one's last change.
 */
export async function* watchTag(backend: Backend, tag: string, options: WatchTagOptions = {}): AsyncGenerator<TagFeedEntry> {
  checkTag(tag);
  const resyncMs = options.resyncMs ?? 5000;
  let cursor = options.after ?? 0;
  // by task id: the latest change not yet yielded
  const pending = new Map<string, TagFeedEntry>();
  const waiter = new PushWaiter();
  const offer = (entry: TagFeedEntry): void => {
    if (entry.cursor <= cursor) return;
    const known = pending.get(entry.info.id);
    if (known && known.cursor >= entry.cursor) return;
    pending.set(entry.info.id, entry);
    waiter.wake();
  };
  const catchUp = async (): Promise<void> => {
    let after = cursor;
    for (;;) {
      const page = await backend.readTagFeed(tag, after, PAGE);
      for (const entry of page.entries) offer(entry);
      after = page.cursor;
      if (!page.more || options.signal?.aborted) return;
    }
  };
  const unsubscribe = await backend.subscribeTag(tag, offer);
  const onAbort = (): void => waiter.wake();
  options.signal?.addEventListener('abort', onAbort);
  try {
    await catchUp();
    while (!options.signal?.aborted) {
      const next = earliest(pending);
      if (next) {
        pending.delete(next.info.id);
        cursor = next.cursor;
        yield next;
        continue;
      }
      const pushed = await waiter.wait(resyncMs);
      if (!pushed && !options.signal?.aborted) await catchUp();
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await unsubscribe();
  }
}

function earliest(pending: Map<string, TagFeedEntry>): TagFeedEntry | undefined {
  let first: TagFeedEntry | undefined;
  for (const entry of pending.values()) if (!first || entry.cursor < first.cursor) first = entry;
  return first;
}
