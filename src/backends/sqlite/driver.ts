import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { ConfigError } from '../../core/errors.js';

type Driver = typeof Database;

let driver: Driver | undefined;

/**
 * better-sqlite3, loaded on first use. It is a native module and an optional
 * peer dependency that only the sqlite broker needs, so importing errand
 * never loads it: a Redis-only app does not have to install (or compile) it.
 */
export function sqliteDriver(): Driver {
  if (driver) return driver;
  try {
    driver = createRequire(import.meta.url)('better-sqlite3') as Driver;
  } catch (error) {
    if (isMissing(error)) {
      throw new ConfigError('the sqlite broker needs better-sqlite3: npm install better-sqlite3', { cause: error });
    }
    throw error;
  }
  return driver;
}

/** The package itself is not installed (not one of its own dependencies). */
function isMissing(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
    error.message.includes("'better-sqlite3'")
  );
}
