import { backoffMs } from './backoff.js';
import { TaskWatchError } from './errors.js';
import { endFor, type TransportEnd } from './transport.js';
import type { StatusMessage, TransportName } from './types.js';

/** One change in a tag feed, as errand/web's feed routes send it. */
export interface FeedEntry<R = unknown, M = unknown> extends StatusMessage<R, M> {
  /** Where the feed stood after this change: resume after it. */
  cursor: number;
  task_id: string;
  /** The task's registered name. */
  name: string;
}

export interface WatchFeedOptions {
  /** The errand routes' prefix ('' or '/users') or an absolute http(s) URL. */
  baseUrl?: string;
  /** Called with each change, in cursor order, never twice. */
  onEntry(entry: FeedEntry): void;
  /** Called once when the feed cannot go on: the server refused it (unauthorized, forbidden, bad_request). */
  onError?(error: TaskWatchError): void;
  /** The first transport to try (default 'ws'); each that cannot connect hands over to the next: ws → sse → poll. */
  transport?: TransportName;
  /**
   * Start after this cursor (default 0: every task the feed holds), or
   * 'now': only changes from now on (the feed is paged to its end first).
   */
  after?: number | 'now';
  pollIntervalMs?: number;
  signal?: AbortSignal;
}

export interface FeedWatch {
  /** The cursor of the last change delivered. */
  readonly cursor: number;
  close(): void;
}

const FALLBACK: readonly TransportName[] = ['ws', 'sse', 'poll'];

/**
 * Follows every task of a tag (a user's tasks, say) until closed: each
 * change once, in cursor order; after a dropped connection it resumes after
 * the last cursor, so nothing is missed and nothing repeats.
 */
export function watchFeed(tag: string, options: WatchFeedOptions): FeedWatch {
  const trimmed = (options.baseUrl ?? '').replace(/\/+$/, '');
  const feedPath = `/feeds/${encodeURIComponent(tag)}/`;
  const location = (globalThis as { location?: { protocol: string; host: string } }).location;
  const wsBase = /^https?:\/\//i.test(trimmed)
    ? trimmed.replace(/^http/i, 'ws')
    : `${location?.protocol === 'https:' ? 'wss' : 'ws'}://${location?.host ?? 'localhost'}${trimmed}`;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  let index = Math.max(0, FALLBACK.indexOf(options.transport ?? 'ws'));
  let cursor = typeof options.after === 'number' ? options.after : 0;
  let attempt = 0;
  let closed = false;
  let stopCurrent: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const deliver = (entry: FeedEntry): void => {
    if (closed || typeof entry?.cursor !== 'number' || entry.cursor <= cursor) return;
    cursor = entry.cursor;
    attempt = 0;
    try {
      options.onEntry(entry);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };
  const close = (): void => {
    closed = true;
    clearTimeout(timer);
    stopCurrent?.();
    options.signal?.removeEventListener('abort', close);
  };
  /** How a connection ended: refused for good, or lost (reconnect; a transport that never opened hands over). */
  const ended = (end: TransportEnd, opened: boolean): void => {
    if (closed) return;
    stopCurrent = undefined;
    if (end.kind !== 'lost') {
      close();
      options.onError?.(new TaskWatchError(end.kind, end.message));
      return;
    }
    if (!opened && index < FALLBACK.length - 1) {
      index++;
      return connect();
    }
    timer = setTimeout(connect, backoffMs(attempt++));
  };

  const connect = (): void => {
    if (closed) return;
    const name = FALLBACK[index]!;
    if (name === 'ws') stopCurrent = viaWs(`${wsBase}/ws${feedPath}?after=${cursor}`, deliver, ended);
    else if (name === 'sse') stopCurrent = viaSse(`${trimmed}${feedPath}events?after=${cursor}`, deliver, ended);
    else stopCurrent = viaPoll(`${trimmed}${feedPath}`, () => cursor, pollIntervalMs, deliver, ended);
  };

  if (options.signal?.aborted) closed = true;
  else {
    options.signal?.addEventListener('abort', close);
    if (options.after === 'now') {
      void feedEnd(`${trimmed}${feedPath}`).then((end) => {
        cursor = Math.max(cursor, end);
        connect();
      });
    } else connect();
  }
  return {
    get cursor() {
      return cursor;
    },
    close,
  };
}

/** The newest cursor a feed holds, paging through it (0 when it cannot be read: the feed then starts at the beginning). */
async function feedEnd(url: string): Promise<number> {
  let after = 0;
  try {
    for (;;) {
      const response = await fetch(`${url}?limit=500&after=${after}`, { cache: 'no-store' });
      if (!response.ok) return after;
      const page = (await response.json()) as { cursor?: unknown; more?: unknown };
      if (typeof page.cursor !== 'number') return after;
      after = page.cursor;
      if (page.more !== true) return after;
    }
  } catch {
    return after;
  }
}

type Deliver = (entry: FeedEntry) => void;
type Ended = (end: TransportEnd, opened: boolean) => void;

function parse(data: unknown): FeedEntry | undefined {
  try {
    return JSON.parse(String(data)) as FeedEntry;
  } catch {
    return undefined;
  }
}

function viaWs(url: string, deliver: Deliver, ended: Ended): () => void {
  let opened = false;
  let stopped = false;
  const ws = new WebSocket(url);
  ws.onopen = () => (opened = true);
  ws.onmessage = (event) => {
    const entry = parse(event.data);
    if (entry) deliver(entry);
  };
  ws.onclose = (event) => {
    if (stopped) return;
    // a refusal before the handshake shows as a close without open; 4400 is a bad tag or cursor
    ended(event.code === 4400 ? { kind: 'bad_request', message: event.reason || 'bad tag or cursor' } : { kind: 'lost' }, opened);
  };
  return () => {
    stopped = true;
    ws.close();
  };
}

function viaSse(url: string, deliver: Deliver, ended: Ended): () => void {
  let opened = false;
  const source = new EventSource(url);
  source.onopen = () => (opened = true);
  source.onmessage = (event) => {
    const entry = parse(event.data);
    if (entry) deliver(entry);
  };
  source.onerror = () => {
    // EventSource reconnects by itself (sending Last-Event-ID) unless the server refused: then it is CLOSED
    if (source.readyState !== EventSource.CLOSED && opened) return;
    source.close();
    ended({ kind: 'lost' }, opened);
  };
  return () => source.close();
}

function viaPoll(url: string, cursor: () => number, intervalMs: number, deliver: Deliver, ended: Ended): () => void {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let opened = false;
  const tick = async (): Promise<void> => {
    let response: Response;
    try {
      response = await fetch(`${url}?after=${cursor()}`, { cache: 'no-store', signal: controller.signal });
    } catch {
      if (!controller.signal.aborted) ended({ kind: 'lost' }, opened);
      return;
    }
    if (!response.ok) {
      const end = await endFor(response);
      if (!controller.signal.aborted) ended(end, opened);
      return;
    }
    opened = true;
    let page: { entries?: FeedEntry[]; more?: boolean } = {};
    try {
      page = (await response.json()) as typeof page;
    } catch {
      // a broken answer: the next poll asks again from the same cursor
    }
    if (controller.signal.aborted) return;
    for (const entry of page.entries ?? []) deliver(entry);
    timer = setTimeout(() => void tick(), page.more ? 0 : intervalMs);
  };
  void tick();
  return () => {
    clearTimeout(timer);
    controller.abort();
  };
}
