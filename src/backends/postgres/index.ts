import { PostgresBackend, type PostgresBackendOptions } from './postgres-backend.js';

export { PostgresBackend, type PostgresBackendOptions };

/** Opens the broker a BackendSpec names (see Backend.spec): how the lease thread connects. */
export function openBackend(options: PostgresBackendOptions): PostgresBackend {
  return new PostgresBackend(options);
}
