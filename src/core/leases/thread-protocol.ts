import type { BackendSpec, ClaimedTask } from '../backend.js';

/** What the lease thread is started with. */
export interface LeaseThreadData {
  spec: BackendSpec;
  leaseMs: number;
  intervalMs: number;
  /** Stop renewing once the worker's event loop has not turned for this long. */
  stallLimitMs: number;
}

/** Worker → thread. `beat` says the worker's event loop still turns. */
export type ToLeaseThread =
  { type: 'add'; task: ClaimedTask } | { type: 'remove'; id: string } | { type: 'beat' } | { type: 'stop' };

/** Thread → worker. */
export type FromLeaseThread =
  | { type: 'ready' }
  | { type: 'lost'; ids: string[] }
  | { type: 'error'; message: string }
  | { type: 'stalled'; ids: string[]; sinceMs: number }
  | { type: 'stopped' };
