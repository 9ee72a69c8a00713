import type { ClaimedTask } from '../backend.js';

/**
 * Keeps the leases of a worker's running deliveries alive until they are
 * removed, and reports the ones that were lost (revoked, finished elsewhere,
 * taken over) through `onLost`.
 */
export interface LeaseKeeper {
  start(): Promise<void>;
  add(task: ClaimedTask): void;
  remove(id: string): void;
  stop(): Promise<void>;
}

export interface LeaseKeeperOptions {
  leaseMs: number;
  /** Called with the ids whose lease is lost; the worker aborts those attempts. */
  onLost(ids: string[]): void;
  /** Called when a renewal fails (the broker is unreachable); renewals go on. */
  onError(error: unknown): void;
}

/** Leases are renewed every third of their length: two renewals may fail before one expires. */
export function renewalIntervalMs(leaseMs: number): number {
  return Math.max(50, Math.floor(leaseMs / 3));
}
