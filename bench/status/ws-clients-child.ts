// Opens many WebSocket status subscribers for the fan-out benchmark and notes when
// each receives its task's terminal message. Driven over IPC by fanout.ts:
//   { type: 'connect', url, origin, taskIds, concurrency } → { type: 'connected', ok, failed, ms }
//   { type: 'collect', timeoutMs } → { type: 'collected', receipts: { [taskId]: number[] }, missing }
//   { type: 'close' } → { type: 'closed' }
import WebSocket from 'ws';
import { clock } from '../clock.js';

const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

interface Socket {
  taskId: string;
  ws: WebSocket;
  receivedAt?: number;
  done: boolean;
  /** In `sockets` (the set being collected). */
  listed: boolean;
}

let sockets: Socket[] = [];
/** Sockets of `sockets` that are done (terminal message received, or closed): a count, not a scan per receipt. */
let doneCount = 0;
let onProgress: (() => void) | undefined;

function open(url: string, origin: string, taskId: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}/ws/task_status/${taskId}/`, { origin, perMessageDeflate: false, handshakeTimeout: 30_000 });
    const socket: Socket = { taskId, ws, done: false, listed: false };
    let first = true;
    ws.on('message', (data) => {
      const at = clock();
      if (first) {
        first = false;
        resolve(socket); // subscribed: the server sent the current state
      }
      const state = (JSON.parse(data.toString()) as { state?: string }).state;
      if (state !== undefined && TERMINAL.has(state) && socket.receivedAt === undefined) {
        socket.receivedAt = at;
        markDone(socket);
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (first) resolve(undefined);
      markDone(socket);
    });
  });
}

function markDone(socket: Socket): void {
  if (socket.done) return;
  socket.done = true;
  if (socket.listed) doneCount++;
  onProgress?.();
}

async function connect(
  url: string,
  origin: string,
  taskIds: string[],
  concurrency: number,
): Promise<{ ok: number; failed: number; ms: number }> {
  const started = clock();
  let next = 0;
  let failed = 0;
  const opened: Socket[] = [];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, taskIds.length) }, async () => {
      while (next < taskIds.length) {
        const socket = await open(url, origin, taskIds[next++]!);
        if (socket) opened.push(socket);
        else failed++;
      }
    }),
  );
  sockets = opened;
  doneCount = 0;
  for (const s of opened) {
    s.listed = true;
    if (s.done) doneCount++;
  }
  return { ok: opened.length, failed, ms: clock() - started };
}

function collect(timeoutMs: number): Promise<{ receipts: Record<string, number[]>; missing: number }> {
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      onProgress = undefined;
      const receipts: Record<string, number[]> = {};
      let missing = 0;
      for (const s of sockets) {
        if (s.receivedAt === undefined) missing++;
        else (receipts[s.taskId] ??= []).push(s.receivedAt);
      }
      resolve({ receipts, missing });
    };
    const timer = setTimeout(finish, timeoutMs);
    onProgress = (): void => {
      if (doneCount === sockets.length) finish();
    };
    onProgress();
  });
}

process.on(
  'message',
  (message: { type: string; url: string; origin: string; taskIds: string[]; concurrency: number; timeoutMs: number }) => {
    const reply = (m: unknown): void => void process.send?.(m as never);
    if (message.type === 'ping') {
      reply({ type: 'pong', at: clock() });
    } else if (message.type === 'connect') {
      void connect(message.url, message.origin, message.taskIds, message.concurrency).then((r) =>
        reply({ type: 'connected', ...r }),
      );
    } else if (message.type === 'collect') {
      void collect(message.timeoutMs).then((r) => reply({ type: 'collected', ...r }));
    } else if (message.type === 'close') {
      for (const s of sockets) {
        s.listed = false;
        s.ws.terminate();
      }
      sockets = [];
      doneCount = 0;
      reply({ type: 'closed' });
    }
  },
);
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.stdout.write('bench ws clients ready\n');
