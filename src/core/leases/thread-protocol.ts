import type { BackendSpec, Delivery } from '../backend.js';

/** What the lease thread is started with. */
export interface LeaseThreadData {
  spec: BackendSpec;
  leaseMs: number;
  intervalMs: number;
  /** Stop renewing once the worker's event loop has not turned for this long. */
  stallLimitMs: number;
  /** The LeaseTable: the running deliveries and the loop's beat, written by the worker without messages. */
  table: SharedArrayBuffer;
}

/**
 * Worker → thread. `leases` carries only deliveries the table could not hold
 * (it was full, or their ids were too long for a slot): the ones that started
 * and the ids that ended since the last one.
 */
export type ToLeaseThread = { type: 'leases'; add: Delivery[]; remove: string[] } | { type: 'stop' };

/** Thread → worker. */
export type FromLeaseThread =
  | { type: 'ready' }
  | { type: 'lost'; ids: string[] }
  | { type: 'error'; message: string }
  | { type: 'stalled'; ids: string[]; sinceMs: number }
  | { type: 'stopped' };
