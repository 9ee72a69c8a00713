import { SqliteBackend, type SqliteBackendOptions } from './sqlite-backend.js';

export { SqliteBackend, type SqliteBackendOptions };

/** Opens the broker a BackendSpec names (see Backend.spec): how the lease thread connects. */
export function openBackend(options: SqliteBackendOptions): SqliteBackend {
  return new SqliteBackend(options);
}
