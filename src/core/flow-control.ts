import type { Backend, ConcurrencyLimit, NewTask, RateLimit } from './backend.js';
import { ConfigError } from './errors.js';
import type { ConcurrencyOption, DebounceOption, FlowControl, KeyFn, RateLimitOption } from './flow-options.js';
import type { TaskOptions } from './task.js';

export type { FlowControl };

/** Bounds of NewTask.limits, rateLimits and group (see backend.ts). */
const MAX_LIMITS = 4;
const MAX_KEY_LENGTH = 200;

/** Checks TaskOptions.concurrency, rateLimit, fairness, debounce and throttle at task definition; undefined when none is given. */
export function checkFlowOptions(name: string, options: TaskOptions): FlowControl | undefined {
  const { concurrency, fairness, rateLimit, debounce, throttle } = options;
  if ([concurrency, fairness, rateLimit, debounce, throttle].every((option) => option === undefined)) return undefined;
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
    return withKey({ limit: entry.limit }, what, entry.key);
  });
  if (fairness !== undefined && (typeof fairness !== 'object' || fairness === null || typeof fairness.key !== 'function')) {
    throw new ConfigError(`task ${name}: fairness must be { key: (...args) => string }`);
  }
  if (debounce !== undefined && throttle !== undefined)
    throw new ConfigError(`task ${name}: give debounce or throttle, not both`);
  const rateLimits = checkRateLimits(name, rateLimit);
  const flow: FlowControl = { name, limits, rateLimits };
  if (fairness !== undefined) Object.assign(flow, { fairness: fairness.key as KeyFn });
  if (debounce !== undefined) Object.assign(flow, { debounce: checkDebounce(name, debounce) });
  if (throttle !== undefined) {
    const what = `task ${name}: throttle`;
    if (typeof throttle !== 'object' || throttle === null) throw new ConfigError(`${what} must be { per, key? }`);
    if (!Number.isInteger(throttle.per) || throttle.per < 1) {
      throw new ConfigError(`${what}.per must be an integer >= 1 (ms), got ${String(throttle.per)}`);
    }
    // one run per window, and the calls within it folded into the next run
    if (rateLimits.length >= MAX_LIMITS) throw new ConfigError(`${what}: a throttle takes one of the ${MAX_LIMITS} rate limits`);
    rateLimits.push(withKey({ limit: 1, perMs: throttle.per, scope: 'throttle' as const }, what, throttle.key));
    const folded = withKey({ delayMs: 0, maxDelayMs: 0, replace: true, scope: 'throttle' as const }, what, throttle.key);
    Object.assign(flow, { debounce: folded });
  }
  return flow;
}

function checkDebounce(name: string, option: DebounceOption): NonNullable<FlowControl['debounce']> {
  const what = `task ${name}: debounce`;
  if (typeof option !== 'object' || option === null) throw new ConfigError(`${what} must be { delay, maxDelay?, keep?, key? }`);
  const { delay, maxDelay, keep } = option;
  if (!Number.isInteger(delay) || delay < 0)
    throw new ConfigError(`${what}.delay must be an integer >= 0 (ms), got ${String(delay)}`);
  if (maxDelay !== undefined && (!Number.isInteger(maxDelay) || maxDelay < delay)) {
    throw new ConfigError(`${what}.maxDelay must be an integer >= delay (ms), got ${String(maxDelay)}`);
  }
  if (keep !== undefined && keep !== 'last' && keep !== 'first') {
    throw new ConfigError(`${what}.keep must be 'last' or 'first', got ${String(keep)}`);
  }
  const checked = { delayMs: delay, replace: keep !== 'first', scope: 'debounce' as const };
  return withKey(maxDelay === undefined ? checked : { ...checked, maxDelayMs: maxDelay }, what, option.key);
}

/** `entry` with its key function, checked, when one is given. */
function withKey<T extends object>(entry: T, what: string, key: unknown): T & { key?: KeyFn } {
  if (key === undefined) return entry;
  if (typeof key !== 'function') throw new ConfigError(`${what}.key must be a function`);
  return { ...entry, key: key as KeyFn };
}

function checkRateLimits(name: string, option: TaskOptions['rateLimit']): Array<FlowControl['rateLimits'][number]> {
  if (option === undefined) return [];
  const entries: readonly RateLimitOption[] = Array.isArray(option) ? option : [option as RateLimitOption];
  if (entries.length < 1 || entries.length > MAX_LIMITS) {
    throw new ConfigError(`task ${name}: rateLimit takes 1 to ${MAX_LIMITS} limits, got ${entries.length}`);
  }
  return entries.map((entry, i) => {
    const what = `task ${name}: rateLimit${Array.isArray(option) ? `[${i}]` : ''}`;
    if (typeof entry !== 'object' || entry === null) throw new ConfigError(`${what} must be { limit, per, key? }`);
    if (!Number.isInteger(entry.limit) || entry.limit < 1) {
      throw new ConfigError(`${what}.limit must be an integer >= 1, got ${String(entry.limit)}`);
    }
    if (!Number.isInteger(entry.per) || entry.per < 1) {
      throw new ConfigError(`${what}.per must be an integer >= 1 (ms), got ${String(entry.per)}`);
    }
    return withKey({ limit: entry.limit, perMs: entry.per, scope: 'rate' as const }, what, entry.key);
  });
}

/**
 * Sets NewTask.limits, rateLimits, group and debounce from the arguments: a
 * limit without a key holds `${name}`, one with a key `${name}:${key(...args)}`;
 * a rate limit `rate:${name}`, or `rate:${name}:${key(...args)}` (a
 * throttle's `throttle:…`); a debounce `debounce:${name}[:key]` (a
 * throttle's `throttle:…`), due `delay` after the call. The group is
 * fairness.key(...args), else the first keyed concurrency limit's key, else
 * the first keyed rate limit's key (tasks of different keys never wait
 * behind each other), else none.
 */
export function applyFlowControl(flow: FlowControl, task: NewTask, args: unknown[], backend: Backend): void {
  if (flow.debounce !== undefined) applyDebounce(flow, flow.debounce, task, args, backend);
  if (flow.limits.length === 0 && flow.rateLimits.length === 0 && flow.fairness === undefined) return;
  if (flow.rateLimits.length > 0 && !backend.capabilities.rateLimits) {
    const option = flow.rateLimits.some((r) => r.scope === 'rate') ? 'rateLimit' : 'throttle';
    throw new ConfigError(`task ${flow.name}: ${option} needs a broker with rate limits; ${backend.kind} has none`);
  }
  if (!backend.capabilities.flowControl) {
    const option = flow.limits.length > 0 ? 'concurrency' : flow.fairness !== undefined ? 'fairness' : 'throttle';
    throw new ConfigError(`task ${flow.name}: ${option} needs a broker with flow control; ${backend.kind} has none`);
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
  let firstRateKeyed: string | undefined;
  const rates: RateLimit[] = [];
  for (const { limit, perMs, key, scope } of flow.rateLimits) {
    const full = scopedKey(flow.name, scope, scope === 'rate' ? 'rateLimit' : 'throttle', key, args, 'rate limit key');
    if (key !== undefined) firstRateKeyed ??= full;
    // the same key and window twice: the smaller limit binds
    const same = rates.find((r) => r.key === full && r.perMs === perMs);
    if (same) same.limit = Math.min(same.limit, limit);
    else rates.push({ key: full, limit, perMs });
  }
  if (rates.length > 0) task.rateLimits = rates;
  const group = flow.fairness === undefined ? (firstKeyed ?? firstRateKeyed) : keyOf(flow.name, 'fairness', flow.fairness, args);
  if (group !== undefined) task.group = group;
}

function applyDebounce(
  flow: FlowControl,
  debounce: NonNullable<FlowControl['debounce']>,
  task: NewTask,
  args: unknown[],
  backend: Backend,
): void {
  const { scope, delayMs, maxDelayMs, replace, key } = debounce;
  if (!backend.capabilities.debounce) {
    throw new ConfigError(`task ${flow.name}: ${scope} needs a broker with debounce; ${backend.kind} has none`);
  }
  task.runAt = task.enqueuedAt + delayMs;
  task.debounce = { key: scopedKey(flow.name, scope, scope, key, args, `${scope} key`), replace };
  if (maxDelayMs !== undefined) task.debounce.maxRunAt = task.enqueuedAt + maxDelayMs;
}

/** `${scope}:${name}`, or with the key function's value `${scope}:${name}:${key(...args)}`, at most 200 characters. */
function scopedKey(name: string, scope: string, option: string, key: KeyFn | undefined, args: unknown[], what: string): string {
  const full = key === undefined ? `${scope}:${name}` : `${scope}:${name}:${keyOf(name, option, key, args)}`;
  return checkedKey(full, name, what);
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

function checkedKey(key: string, name: string, what = 'concurrency key'): string {
  if (key.length > MAX_KEY_LENGTH) {
    throw new ConfigError(`task ${name}: the ${what} ${key.slice(0, 40)}… is over ${MAX_KEY_LENGTH} characters`);
  }
  return key;
}

/**
 * What a broker keeps per rate-limit key (NewTask.rateLimits): its latest
 * claim times, ascending, enough of them for the largest limit and longest
 * window the key was claimed under, and the time a hold (holdRateLimit) ends.
 */
export interface RateKeyState {
  hits: number[];
  keepMs: number;
  keepN: number;
  heldUntil: number;
}

/**
 * How long until a task with these rate limits may be claimed (0: now),
 * given each key's state: a sliding window, exactly, per entry (the claim
 * `limit` back must be `perMs` old), and any hold.
 */
export function rateLimitWait(
  limits: readonly RateLimit[],
  state: (key: string) => RateKeyState | undefined,
  now: number,
): number {
  let wait = 0;
  for (const { key, limit, perMs } of limits) {
    const s = state(key);
    if (s === undefined) continue;
    if (s.heldUntil > now) wait = Math.max(wait, s.heldUntil - now);
    const since = now - perMs;
    let recent = 0;
    for (let i = s.hits.length - 1; i >= 0 && s.hits[i]! > since; i--) recent++;
    if (recent >= limit) wait = Math.max(wait, s.hits[s.hits.length - limit]! + perMs - now);
  }
  return wait;
}

/** A claim at `now` of a task with these rate limits, recorded once per key in its state (made when missing). */
export function recordRateHit(limits: readonly RateLimit[], state: (key: string) => RateKeyState, now: number): Set<string> {
  const keys = new Set<string>();
  for (const { key, limit, perMs } of limits) {
    const s = state(key);
    s.keepMs = Math.max(s.keepMs, perMs);
    s.keepN = Math.max(s.keepN, limit);
    if (keys.has(key)) continue;
    keys.add(key);
    s.hits.push(now);
    // clocks of other processes may be behind
    if (s.hits.length > 1 && s.hits[s.hits.length - 2]! > now) s.hits.sort((a, b) => a - b);
  }
  for (const key of keys) {
    const s = state(key);
    let drop = 0;
    while (drop < s.hits.length && (s.hits[drop]! <= now - s.keepMs || s.hits.length - drop > s.keepN)) drop++;
    if (drop > 0) s.hits.splice(0, drop);
  }
  return keys;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `${value.length} characters` : typeof value;
}
