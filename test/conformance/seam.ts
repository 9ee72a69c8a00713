import { randomUUID } from 'node:crypto';
import type {
  BackendCapabilities,
  ClaimRequest,
  CreateAppOptions,
  Errand,
  NewTask,
  Worker,
  WorkerOptions,
} from '../../src/index.js';
import type { defineConformanceTasks } from './tasks.js';

/** What each conformance test gets: a fresh namespace on the broker under test. */
export interface Env {
  url: string;
  log: string;
  app: Errand;
  tasks: ReturnType<typeof defineConformanceTasks>;
  worker(options?: WorkerOptions): Promise<Worker>;
  /** A second app on the same broker, as another process would have. */
  otherApp(options?: Omit<CreateAppOptions, 'broker'>): Errand;
  lines(): string[];
}

export type Setup = (options?: Omit<CreateAppOptions, 'broker'>) => Promise<Env>;

/** The broker under test as the cases see it: its name and its backend's capabilities (read once). */
export interface Broker {
  name: string;
  capabilities: BackendCapabilities;
}

/** A task as the engine hands it to Backend.enqueue, due now. */
export function newTask(patch: Partial<NewTask> = {}): NewTask {
  const at = Date.now();
  return { id: randomUUID(), name: 'conf.add', queue: 'default', payload: '[1,2]', enqueuedAt: at, runAt: at, ...patch };
}

export function claimRequest(workerId = 'w1', patch: Partial<ClaimRequest> = {}): ClaimRequest {
  return { workerId, queues: ['default'], limit: 10, leaseMs: 30_000, waitMs: 0, ...patch };
}
