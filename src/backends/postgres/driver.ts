import { createRequire } from 'node:module';
import type * as Pg from 'pg';
import { ConfigError } from '../../core/errors.js';

export type PgModule = typeof Pg;

let driver: PgModule | undefined;

/**
 * pg (node-postgres), loaded on first use. It is an optional peer dependency
 * that only the postgres broker needs, so importing errand never loads it.
 */
export function pgDriver(): PgModule {
  if (driver) return driver;
  try {
    driver = createRequire(import.meta.url)('pg') as PgModule;
  } catch (error) {
    if (isMissing(error)) {
      throw new ConfigError('the postgres broker needs pg: npm install pg', { cause: error });
    }
    throw error;
  }
  return driver;
}

/** The package itself is not installed (not one of its own dependencies). */
function isMissing(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && error.message.includes("'pg'");
}

/** An identifier (schema, NOTIFY channel) quoted for SQL: exact case, any characters. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
