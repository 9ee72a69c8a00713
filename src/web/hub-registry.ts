import type { Backend } from '../core/backend.js';
import { StatusHub } from '../status/status-hub.js';

interface Entry {
  hub: StatusHub;
  users: number;
}

// One hub per backend, however many times and on however many servers the plugin is registered,
// so every watcher of a task in this process shares one backend subscription.
const hubs = new WeakMap<Backend, Entry>();

export function acquireHub(backend: Backend): StatusHub {
  let entry = hubs.get(backend);
  if (!entry) hubs.set(backend, (entry = { hub: new StatusHub(backend), users: 0 }));
  entry.users++;
  return entry.hub;
}

export async function releaseHub(backend: Backend): Promise<void> {
  const entry = hubs.get(backend);
  if (!entry || --entry.users > 0) return;
  hubs.delete(backend);
  await entry.hub.close();
}

/** The hub serving `backend`, if a registration holds one (for tests and metrics). */
export function peekHub(backend: Backend): StatusHub | undefined {
  return hubs.get(backend)?.hub;
}
