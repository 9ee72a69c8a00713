import { backoffMs } from './backoff.js';
import { TaskWatchError } from './errors.js';
import { startPoll } from './poll-transport.js';
import { startSse } from './sse-transport.js';
import type { StartTransport, TransportEnd, TransportHandle } from './transport.js';
import {
  isTerminalState,
  type ConnectionChange,
  type StatusMessage,
  type TaskWatch,
  type TransportName,
  type TypedTask,
  type WatchTaskOptions,
} from './types.js';
import { endpoints } from './urls.js';
import { startWs } from './ws-transport.js';

const FALLBACK: readonly TransportName[] = ['ws', 'sse', 'poll'];
/** Failed connects in a row after which a transport that once worked is given up for the next one. */
const MAX_FAILED_CONNECTS = 3;

export interface WatchDependencies {
  transports: Record<TransportName, StartTransport>;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (timer: unknown) => void;
}

const defaults: WatchDependencies = {
  transports: { ws: startWs, sse: startSse, poll: startPoll },
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/**
 * Follows a task until its terminal state, calling onUpdate with each new
 * version (versions it has seen are ignored, so reconnects never repeat or
 * reorder an update).
 *
 * States: connecting → open → (lost → waiting to reconnect → connecting) →
 * settled. A transport that cannot connect at all hands over to the next one
 * (ws → sse → poll) at once; one that worked before is retried with backoff,
 * and given up after MAX_FAILED_CONNECTS failed connects in a row.
 */
export function watchTask<T extends TypedTask = TypedTask>(id: string, options: WatchTaskOptions<T>): TaskWatch<T> {
  // The types are the caller's claim about the server's data: the watcher itself handles plain messages.
  return watchTaskWith(id, options as WatchTaskOptions, defaults) as TaskWatch<T>;
}

/** watchTask with its transports and timers handed in (tests drive it with fakes). */
export function watchTaskWith(id: string, options: WatchTaskOptions, deps: WatchDependencies): TaskWatch {
  const urls = endpoints(options.baseUrl);
  const order = FALLBACK.slice(FALLBACK.indexOf(options.transport ?? 'ws'));
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const everOpened = new Set<TransportName>();
  let index = 0;
  let failedConnects = 0;
  let attempt = 0;
  let lastVersion = options.afterVersion ?? 0;
  let handle: TransportHandle | undefined;
  let timer: unknown;
  let settled = false;

  let resolveDone!: (status: StatusMessage) => void;
  let rejectDone!: (error: TaskWatchError) => void;
  const done = new Promise<StatusMessage>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => undefined); // a caller that only uses onUpdate must not get an unhandled rejection

  const stop = (): void => {
    settled = true;
    handle?.close();
    handle = undefined;
    deps.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  };
  const fail = (error: TaskWatchError): void => {
    if (settled) return;
    stop();
    rejectDone(error);
  };
  const onAbort = (): void => fail(new TaskWatchError('closed', 'watching was stopped'));

  /** Calls the caller's callback; its bug surfaces without breaking the watch. */
  const call = (callback: () => void): void => {
    try {
      callback();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };
  const announce = (change: ConnectionChange): void => {
    const { onConnection } = options;
    if (onConnection) call(() => onConnection.call(options, change));
  };

  const deliver = (status: StatusMessage): void => {
    if (settled || status.version <= lastVersion) return;
    lastVersion = status.version;
    attempt = 0; // progress was made: the next reconnect may be quick again
    call(() => options.onUpdate(status));
    if (isTerminalState(status.state)) {
      stop();
      resolveDone(status);
    }
  };

  const connect = (): void => {
    if (settled) return;
    const name = order[index]!;
    let opened = false;
    let ended = false;
    const url = urls[name](id);
    announce({ state: 'connecting', transport: name });
    if (settled) return; // the caller closed the watch from onConnection
    handle = deps.transports[name](url, {
      id,
      pollIntervalMs,
      lastVersion: () => lastVersion,
      onOpen: () => {
        if (opened || ended || settled) return; // polling answers (and so opens) on every request
        opened = true;
        failedConnects = 0;
        everOpened.add(name);
        announce({ state: 'open', transport: name });
      },
      onStatus: deliver,
      onEnd: (end) => {
        if (ended || settled) return;
        ended = true;
        handle = undefined;
        onEnd(name, opened, end);
      },
    });
  };

  const onEnd = (name: TransportName, opened: boolean, end: TransportEnd): void => {
    if (end.kind !== 'lost') return fail(new TaskWatchError(end.kind, end.message));
    if (!opened) {
      failedConnects++;
      const last = index === order.length - 1;
      if (!last && (!everOpened.has(name) || failedConnects >= MAX_FAILED_CONNECTS)) {
        index++;
        failedConnects = 0;
        return connect(); // a transport that cannot connect here: try the next one now
      }
    }
    timer = deps.setTimeout(connect, backoffMs(attempt++));
    announce({ state: 'reconnecting', transport: order[index]! });
  };

  if (options.signal?.aborted) onAbort();
  else {
    options.signal?.addEventListener('abort', onAbort);
    connect();
  }
  return { done, close: onAbort };
}
