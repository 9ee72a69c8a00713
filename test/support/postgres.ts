import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';

/** The PostgreSQL the tests use: $POSTGRES_URL, else the local default. */
export const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A short-lived client (for checks and test-side inspection); the caller ends it. */
export async function testClient(url = POSTGRES_URL): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** True when a PostgreSQL answers at POSTGRES_URL within two seconds. */
export async function postgresAvailable(url = POSTGRES_URL): Promise<boolean> {
  try {
    const client = await testClient(url);
    await client.end();
    return true;
  } catch {
    return false;
  }
}

const available = await postgresAvailable();
const created: string[] = [];

/** A schema name no other test uses (lower case, so it needs no quoting). */
export function uniqueSchema(label = 'test'): string {
  const schema = `errand_${label}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  created.push(schema);
  return schema;
}

/** The broker URL of a fresh schema (for createApp). */
export function uniquePostgresUrl(label = 'test'): string {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', uniqueSchema(label));
  return url.toString();
}

/** Drops the schema of a broker URL (or a schema name), with everything in it. */
export async function dropSchema(urlOrSchema: string): Promise<void> {
  const schema = urlOrSchema.includes('://') ? new URL(urlOrSchema).searchParams.get('schema')! : urlOrSchema;
  const client = await testClient();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * A describe block that needs PostgreSQL at POSTGRES_URL: runs when it
 * answers, fails when it does not and CI=true, else is skipped with a printed reason.
 * Every uniqueSchema() made meanwhile is dropped afterwards (a test that
 * opened a broker and never cleaned up leaves nothing behind).
 */
export function describePostgres(name: string, fn: () => void): void {
  if (available) {
    describe(name, () => {
      afterAll(async () => {
        for (const schema of created.splice(0)) await dropSchema(schema);
      });
      fn();
    });
    return;
  }
  const reason = `PostgreSQL is not reachable at ${POSTGRES_URL} (set POSTGRES_URL or start PostgreSQL)`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error(`${reason}; CI=true, so this fails instead of skipping`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${reason}`);
  describe.skip(name, fn);
}
