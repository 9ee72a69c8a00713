import type { BackendSpec, Delivery } from '../backend.js';

/** What the lease thread is started with. */
export interface LeaseThreadData {
  spec: BackendSpec;
  leaseMs: number;
  intervalMs: number;
  /** Stop renewing once the worker's event loop has not turned for this long. */
  stallLimitMs: number;
}

/**
 * Worker → thread. `leases` carries the deliveries that started and the ids
 * that ended since the last one (one message per claim batch, not per task);
 * `beat` says the worker's event loop still turns.
 */
export type ToLeaseThread = { type: 'leases'; add: Delivery[]; remove: string[] } | { type: 'beat' } | { type: 'stop' };

/** Thread → worker. */
export type FromLeaseThread =
  | { type: 'ready' }
  | { type: 'lost'; ids: string[] }
  | { type: 'error'; message: string }
  | { type: 'stalled'; ids: string[]; sinceMs: number }
  | { type: 'stopped' };
