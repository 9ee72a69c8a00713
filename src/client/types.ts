// Browser-side types. The client must not import server code, so StatusMessage is
// re-declared here; test/web/status-message.test-d.ts checks it stays identical.

export type TaskState = 'PENDING' | 'STARTED' | 'PROGRESS' | 'RETRY' | 'SUCCESS' | 'FAILURE' | 'REVOKED';

/** A task's status as the server sends it (poll body, SSE data, WebSocket message). */
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

export type TransportName = 'ws' | 'sse' | 'poll';

export interface WatchTaskOptions {
  /** Preferred transport (default 'ws'); falls back ws → sse → poll when one cannot connect. */
  transport?: TransportName;
  /** Path prefix the server's routes are under, such as '/users' (default ''); an absolute http(s) URL also works. */
  baseUrl?: string;
  /** Called with each new version, in order, the terminal one included. */
  onUpdate(status: StatusMessage): void;
  /** How often the poll transport asks (default 1000 ms). */
  pollIntervalMs?: number;
  /** Aborting stops watching (like close()). */
  signal?: AbortSignal;
}

export interface TaskWatch {
  /** Resolves with the terminal status; rejects with TaskWatchError (not_found, bad_request, closed). */
  done: Promise<StatusMessage>;
  /** Stops watching; `done` rejects with code 'closed' unless it had settled. */
  close(): void;
}

export const TERMINAL_STATES: readonly TaskState[] = ['SUCCESS', 'FAILURE', 'REVOKED'];

export function isTerminalState(state: TaskState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** Server data is untrusted: accept only what looks like a status message. */
export function isStatusMessage(value: unknown): value is StatusMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { state, version } = value as { state?: unknown; version?: unknown };
  return typeof state === 'string' && typeof version === 'number' && Number.isFinite(version);
}
