import WebSocket from 'ws';
import { clock } from '../clock.js';

/** The status message fields the bench reads (see src/status/status-message.ts). */
export interface StatusMessage {
  state: string;
  version: number;
  result?: unknown;
}

const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

export interface Receipt {
  /** Our clock() when the terminal message arrived. */
  at: number;
  message: StatusMessage;
}

/**
 * One watcher of one task: `running` resolves on the first message showing the
 * task started (STARTED, PROGRESS), `terminal` with the terminal message's
 * receipt. `close()` ends it early.
 */
export interface Watch {
  running: Promise<StatusMessage>;
  terminal: Promise<Receipt>;
  close(): void;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Routes parsed messages to a Watch's promises. */
function watcher(): { watch: Omit<Watch, 'close'>; onMessage(m: StatusMessage, at: number): void; fail(e: Error): void } {
  const running = deferred<StatusMessage>();
  const terminal = deferred<Receipt>();
  return {
    watch: { running: running.promise, terminal: terminal.promise },
    onMessage(message, at) {
      if (message.state !== 'PENDING') running.resolve(message);
      if (TERMINAL.has(message.state)) terminal.resolve({ at, message });
    },
    fail(error) {
      running.reject(error);
      terminal.reject(error);
    },
  };
}

/** WS {base}/ws/task_status/:id/ with the server's own Origin (the endpoint checks it). */
export function watchWs(base: string, taskId: string): Watch {
  const w = watcher();
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/task_status/${taskId}/`, {
    origin: base,
    perMessageDeflate: false,
  });
  ws.on('message', (data) => w.onMessage(JSON.parse(data.toString()) as StatusMessage, clock()));
  ws.on('error', (error) => w.fail(error));
  ws.on('close', (code) => w.fail(new Error(`WebSocket closed (${code}) before the terminal state`)));
  return { ...w.watch, close: () => ws.terminate() };
}

/** SSE GET {base}/tasks/:id/events, read with fetch streaming. */
export function watchSse(base: string, taskId: string): Watch {
  const w = watcher();
  const controller = new AbortController();
  void (async () => {
    const response = await fetch(`${base}/tasks/${taskId}/events`, {
      signal: controller.signal,
      headers: { accept: 'text/event-stream' },
    });
    if (!response.ok || !response.body) throw new Error(`SSE answered HTTP ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const at = clock();
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data) w.onMessage(JSON.parse(data) as StatusMessage, at);
      }
    }
    throw new Error('SSE stream ended before the terminal state');
  })().catch((error: unknown) => w.fail(error instanceof Error ? error : new Error(String(error))));
  return { ...w.watch, close: () => controller.abort() };
}

/**
 * The seeds' polling: GET {base}/task_status/?task_id= now and then every
 * `intervalMs` (on a fixed schedule) until a terminal state.
 */
export function watchPoll(base: string, taskId: string, intervalMs = 1000): Watch {
  const w = watcher();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const started = clock();
  const poll = async (n: number): Promise<void> => {
    if (stopped) return;
    try {
      const response = await fetch(`${base}/task_status/?task_id=${taskId}`);
      const at = clock();
      if (!response.ok) throw new Error(`poll answered HTTP ${response.status}`);
      const message = (await response.json()) as StatusMessage;
      w.onMessage(message, at);
      if (TERMINAL.has(message.state)) return;
    } catch (error) {
      w.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (stopped) return;
    timer = setTimeout(() => void poll(n + 1), Math.max(0, started + (n + 1) * intervalMs - clock()));
  };
  void poll(0);
  return {
    ...w.watch,
    close: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export type Transport = 'ws' | 'sse' | 'poll';
export const TRANSPORTS: readonly Transport[] = ['ws', 'sse', 'poll'];

export function watch(transport: Transport, base: string, taskId: string): Watch {
  if (transport === 'ws') return watchWs(base, taskId);
  if (transport === 'sse') return watchSse(base, taskId);
  return watchPoll(base, taskId);
}

/** Rejects after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
