import type { Aging } from './backend.js';
import { ConfigError } from './errors.js';
import { MAX_PRIORITY, MIN_PRIORITY } from './priority.js';

/**
 * Priority aging (TaskOptions.aging): while a task waits due, its priority
 * rises by `step` every `every` ms, up to `max`, so a steady stream of
 * higher-priority work cannot starve it.
 */
export interface AgingOption {
  /** How long (ms, an integer >= 1) a due task waits for each raise. */
  every: number;
  /** How much each raise adds (an integer >= 1, default 1). */
  step?: number;
  /** The highest priority aging reaches (default 1000, the highest there is). */
  max?: number;
}

/** Checks TaskOptions.aging at task definition; undefined when none is given. */
export function checkAging(name: string, option: AgingOption | undefined): Aging | undefined {
  if (option === undefined) return undefined;
  const what = `task ${name}: aging`;
  if (typeof option !== 'object' || option === null) throw new ConfigError(`${what} must be { every, step?, max? }`);
  const { every, step = 1, max = MAX_PRIORITY } = option;
  if (!Number.isInteger(every) || every < 1)
    throw new ConfigError(`${what}.every must be an integer >= 1 (ms), got ${String(every)}`);
  if (!Number.isInteger(step) || step < 1) throw new ConfigError(`${what}.step must be an integer >= 1, got ${String(step)}`);
  if (!Number.isInteger(max) || max < MIN_PRIORITY || max > MAX_PRIORITY) {
    throw new ConfigError(`${what}.max must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${String(max)}`);
  }
  return { everyMs: every, step, max };
}

/** What a broker keeps of an aging task: its rule, priority, due time, and when it is raised next. */
export interface AgingState extends Aging {
  priority: number;
  runAt: number;
  next: number;
}

/**
 * One sweep's outcome for a waiting task whose `next` raise time has come
 * (Backend.agePriorities): the raises it is owed since the later of its due
 * time and its last raise, capped at max, and the next time to look (null:
 * at max, never again). A task not due yet is looked at `every` after its
 * due time. Every broker computes this, so a sweep's result does not depend
 * on how often sweeps run.
 */
export function ageStep(state: AgingState, now: number): { priority: number; next: number | null } {
  const { everyMs, step, max, priority, runAt, next } = state;
  const since = Math.max(runAt, next - everyMs);
  if (since > now) return { priority, next: since + everyMs };
  const raises = Math.floor((now - since) / everyMs);
  const raised = Math.min(max, priority + step * raises);
  return { priority: Math.max(raised, priority), next: raised >= max ? null : since + (raises + 1) * everyMs };
}
