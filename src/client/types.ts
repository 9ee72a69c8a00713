// Browser-side types. The client must not import server code, so StatusMessage is
// re-declared here; test/web/status-message.test-d.ts checks it stays identical.

export type TaskState = 'PENDING' | 'STARTED' | 'PROGRESS' | 'RETRY' | 'SUCCESS' | 'FAILURE' | 'REVOKED';

/**
 * A task's status as the server sends it (poll body, SSE data, WebSocket message).
 * `R` types `result` and `M` types `progress.meta`; `StatusOf<typeof task>` fills both in.
 */
export interface StatusMessage<R = unknown, M = unknown> {
  state: TaskState;
  version: number;
  /** The failure's message (FAILURE, and the last error while RETRY). */
  error?: string;
  /** The failure's error class name. */
  errorType?: string;
  progress?: { current: number; total?: number; meta?: M };
  /** The task's return value (SUCCESS only). */
  result?: R;
}

/**
 * What the browser may know of a server task: its result and progress meta
 * types. errand's `Task` carries them in a type-only `'~types'` member, so
 * `typeof task` (imported with `import type`, which bundles no
 * server code) fits; `TypedTask<Result, Meta>` spells them out by hand.
 */
export interface TypedTask<R = unknown, M = unknown> {
  readonly '~types'?: { readonly result: R; readonly progress: M };
}

/** The result type of a task (`unknown` for the plain TypedTask). */
export type ResultOf<T extends TypedTask> = T extends TypedTask<infer R, unknown> ? R : unknown;
/** The progress meta type of a task (`unknown` for the plain TypedTask). */
export type ProgressMetaOf<T extends TypedTask> = T extends TypedTask<unknown, infer M> ? M : unknown;
/** The status message of a task, its result and progress meta typed. */
export type StatusOf<T extends TypedTask> = StatusMessage<ResultOf<T>, ProgressMetaOf<T>>;

export type TransportName = 'ws' | 'sse' | 'poll';

/** What the watcher's connection is doing: trying a transport, connected, or waiting to reconnect. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface ConnectionChange {
  state: ConnectionState;
  /** The transport tried, open, or about to be retried. */
  transport: TransportName;
}

/** `T` is the task's type (`typeof task`) and types the messages; the plain TypedTask leaves them unknown. */
export interface WatchTaskOptions<T extends TypedTask = TypedTask> {
  /** Preferred transport (default 'ws'); falls back ws → sse → poll when one cannot connect. */
  transport?: TransportName;
  /** Path prefix the server's routes are under, such as '/users' (default ''); an absolute http(s) URL also works. */
  baseUrl?: string;
  /** Called with each new version, in order, the terminal one included. */
  onUpdate(status: StatusOf<T>): void;
  /** Called when the connection changes (transport tried, open, waiting to reconnect). */
  onConnection?(change: ConnectionChange): void;
  /** Versions up to this one are known already and not passed on (resuming a watch; default 0). */
  afterVersion?: number;
  /** How often the poll transport asks (default 1000 ms). */
  pollIntervalMs?: number;
  /** Aborting stops watching (like close()). */
  signal?: AbortSignal;
}

export interface TaskWatch<T extends TypedTask = TypedTask> {
  /** Resolves with the terminal status; rejects with TaskWatchError (not_found, bad_request, closed). */
  done: Promise<StatusOf<T>>;
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
