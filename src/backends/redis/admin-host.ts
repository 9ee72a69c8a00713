import type { RedisClient } from './cluster.js';
import type { RedisKeys } from './keys.js';

/** What the admin half (admin.ts, admin-bookkeeping.ts) needs of the RedisBackend that owns it. */
export interface RedisAdminHost {
  readonly keys: RedisKeys;
  /** The command connection; the admin scripts are registered on it. */
  readonly redis: RedisClient;
  readonly resultTtlMs: number;
  /** Throws ClosedError once the backend is closed. */
  assertOpen(): void;
  /** Runs commands as the backend's own calls run: awaited by close(), errors wrapped (BrokerError, ClosedError). */
  run<T>(what: string, command: () => Promise<T>): Promise<T>;
}
