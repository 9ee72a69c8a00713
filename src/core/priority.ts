import { ConfigError } from './errors.js';

/** Task priorities are integers in this range; higher runs first (see NewTask.priority). */
export const MIN_PRIORITY = -1000;
export const MAX_PRIORITY = 1000;

/** The priority to store, or undefined for the default (0); ConfigError names where it came from. */
export function checkPriority(what: string, priority: unknown): number | undefined {
  if (priority === undefined) return undefined;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new ConfigError(`${what} must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${String(priority)}`);
  }
  return priority === 0 ? undefined : priority;
}
