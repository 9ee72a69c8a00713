import type { Backend, ConcurrencyLimit, NewTask } from './backend.js';
import { ConfigError } from './errors.js';
import type { ConcurrencyOption, TaskOptions } from './task.js';

/** Bounds of NewTask.limits and NewTask.group (see backend.ts). */
const MAX_LIMITS = 4;
const MAX_KEY_LENGTH = 200;

type KeyFn = (...args: unknown[]) => unknown;

/** A task's checked concurrency and fairness options: what enqueue turns into NewTask.limits and group. */
export interface FlowControl {
  readonly name: string;
  readonly limits: ReadonlyArray<{ limit: number; key?: KeyFn }>;
  readonly fairness?: KeyFn;
}

/** Checks TaskOptions.concurrency and fairness at task definition; undefined when neither is given. */
export function checkFlowOptions(name: string, options: TaskOptions): FlowControl | undefined {
  const { concurrency, fairness } = options;
  if (concurrency === undefined && fairness === undefined) return undefined;
  const entries: readonly ConcurrencyOption[] =
    concurrency === undefined ? [] : Array.isArray(concurrency) ? concurrency : [concurrency as ConcurrencyOption];
  if (concurrency !== undefined && (entries.length < 1 || entries.length > MAX_LIMITS)) {
    throw new ConfigError(`task ${name}: concurrency takes 1 to ${MAX_LIMITS} limits, got ${entries.length}`);
  }
  const limits = entries.map((entry, i) => {
    const what = `task ${name}: concurrency${Array.isArray(concurrency) ? `[${i}]` : ''}`;
    if (typeof entry !== 'object' || entry === null) throw new ConfigError(`${what} must be { limit, key? }`);
    if (!Number.isInteger(entry.limit) || entry.limit < 1) {
      throw new ConfigError(`${what}.limit must be an integer >= 1, got ${String(entry.limit)}`);
    }
    if (entry.key !== undefined && typeof entry.key !== 'function') throw new ConfigError(`${what}.key must be a function`);
    return entry.key === undefined ? { limit: entry.limit } : { limit: entry.limit, key: entry.key as KeyFn };
  });
  if (fairness !== undefined && (typeof fairness !== 'object' || fairness === null || typeof fairness.key !== 'function')) {
    throw new ConfigError(`task ${name}: fairness must be { key: (...args) => string }`);
  }
  return fairness === undefined ? { name, limits } : { name, limits, fairness: fairness.key as KeyFn };
}

/**
 * Sets NewTask.limits and group from the arguments: a limit without a key
 * holds `${name}`, one with a key `${name}:${key(...args)}`; the group is
 * fairness.key(...args), else the first keyed limit's key (tasks of
 * different keys never wait behind each other), else none.
 */
export function applyFlowControl(flow: FlowControl, task: NewTask, args: unknown[], backend: Backend): void {
  if (!backend.capabilities.flowControl) {
    const option = flow.limits.length > 0 ? 'concurrency' : 'fairness';
    throw new ConfigError(
      `task ${flow.name}: ${option} needs a broker with flow control (memory, SQLite); ${backend.kind} has none`,
    );
  }
  const byKey = new Map<string, number>();
  let firstKeyed: string | undefined;
  for (const { limit, key } of flow.limits) {
    const full =
      key === undefined ? flow.name : checkedKey(`${flow.name}:${keyOf(flow.name, 'concurrency', key, args)}`, flow.name);
    if (key !== undefined) firstKeyed ??= full;
    // one count per key: the smallest limit is the one that binds
    byKey.set(full, Math.min(limit, byKey.get(full) ?? limit));
  }
  if (byKey.size > 0) task.limits = [...byKey].map(([key, limit]): ConcurrencyLimit => ({ key, limit }));
  const group = flow.fairness === undefined ? firstKeyed : keyOf(flow.name, 'fairness', flow.fairness, args);
  if (group !== undefined) task.group = group;
}

function keyOf(name: string, option: string, key: KeyFn, args: unknown[]): string {
  let value: unknown;
  try {
    value = key(...args);
  } catch (error) {
    throw new ConfigError(`task ${name}: ${option}.key threw: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) {
    throw new ConfigError(
      `task ${name}: ${option}.key must return a string of 1 to ${MAX_KEY_LENGTH} characters, got ${describe(value)}`,
    );
  }
  return value;
}

function checkedKey(key: string, name: string): string {
  if (key.length > MAX_KEY_LENGTH) {
    throw new ConfigError(`task ${name}: the concurrency key ${key.slice(0, 40)}… is over ${MAX_KEY_LENGTH} characters`);
  }
  return key;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `${value.length} characters` : typeof value;
}
