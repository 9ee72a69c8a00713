import type { Backend, Unsubscribe } from '../../src/core/backend.js';
import type { TaskState } from '../../src/core/states.js';
import type { TaskInfo } from '../../src/core/types.js';

export function info(version: number, state: TaskState = 'PROGRESS', extra: Partial<TaskInfo> = {}): TaskInfo {
  return { id: 't1', name: 'x', queue: 'default', state, version, attempts: 0, retries: 0, enqueuedAt: 0, runAt: 0, ...extra };
}

/**
 * A backend with just the status side, driven by the test: `push` plays a
 * broker publish, `snapshot` is what getInfo returns, `beforeSnapshot` runs
 * between subscribe and the snapshot read.
 */
export class FakeStatusBackend {
  snapshot: TaskInfo | null = info(1, 'PENDING');
  beforeSnapshot?: () => void;
  subscriptions = 0;
  active = 0;
  reads = 0;
  private readonly listeners = new Set<(info: TaskInfo) => void>();

  async subscribeStatus(_id: string, listener: (info: TaskInfo) => void): Promise<Unsubscribe> {
    this.subscriptions++;
    this.active++;
    this.listeners.add(listener);
    return async () => {
      if (this.listeners.delete(listener)) this.active--;
    };
  }

  async getInfo(): Promise<TaskInfo | null> {
    this.reads++;
    this.beforeSnapshot?.();
    return this.snapshot;
  }

  push(value: TaskInfo): void {
    for (const listener of this.listeners) listener(value);
  }

  asBackend(): Backend {
    return this as unknown as Backend;
  }
}

/** Wraps a real backend and counts its status subscriptions. */
export function countSubscriptions(inner: Backend): { backend: Backend; total: () => number; active: () => number } {
  let total = 0;
  let active = 0;
  const backend = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'subscribeStatus') {
        return async (id: string, listener: (info: TaskInfo) => void): Promise<Unsubscribe> => {
          total++;
          active++;
          const off = await target.subscribeStatus(id, listener);
          let done = false;
          return async () => {
            if (!done) active--;
            done = true;
            await off();
          };
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { backend, total: () => total, active: () => active };
}
