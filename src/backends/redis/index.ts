import { RedisBackend, type RedisBackendOptions } from './redis-backend.js';

export { RedisBackend, type RedisBackendOptions };

/** Opens the broker a BackendSpec names (see Backend.spec): how the lease thread connects. */
export function openBackend(options: RedisBackendOptions): RedisBackend {
  return new RedisBackend(options);
}
