import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/backends/postgres/migrations.js';
import { startChild, stopChild, type Child } from '../../support/child.js';
import { describePostgres, dropSchema, testClient, uniqueSchema } from '../../support/postgres.js';
import { waitFor } from '../../support/wait.js';

const PROCESSES = 12;
const ROUNDS = 4;

describePostgres('postgres: migrations', () => {
  it('many processes opening the same brand-new schema at the same instant all succeed, and it is migrated once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'errand-pg-open-race-'));
    const children: Child[] = [];
    const schemas: string[] = [];
    const client = await testClient();
    try {
      children.push(
        ...(await Promise.all(
          Array.from({ length: PROCESSES }, () =>
            startChild('test/backends/postgres/open-race-child.ts', { RACE_DIR: dir, ROUNDS: String(ROUNDS) }),
          ),
        )),
      );
      const failures: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const schema = uniqueSchema('race');
        schemas.push(schema);
        const go = join(dir, `go-${round}`);
        writeFileSync(`${go}.tmp`, JSON.stringify({ schema, at: Date.now() + 50 }));
        renameSync(`${go}.tmp`, go);
        const done = new RegExp(`^round ${round} (ok|error.*)$`, 'm');
        const lines = await waitFor(
          () => {
            const found = children.map((c) => done.exec(c.output())?.[0]);
            return found.every((line) => line !== undefined) ? (found as string[]) : undefined;
          },
          30_000,
          `round ${round} of every child`,
        );
        failures.push(...lines.filter((line) => line !== `round ${round} ok`));
        const versions = await client.query(`SELECT version FROM "${schema}".schema_version ORDER BY version`);
        expect(versions.rows.map((row: { version: number }) => row.version)).toEqual(MIGRATIONS.map((m) => m.version));
        const tasks = await client.query(`SELECT count(*)::int AS n FROM "${schema}".tasks`);
        expect(tasks.rows[0].n).toBe(PROCESSES);
      }
      expect(failures).toEqual([]);
    } finally {
      await Promise.all(children.map((c) => stopChild(c)));
      await client.end();
      for (const schema of schemas) await dropSchema(schema);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a schema already at the latest version opens without changes', async () => {
    const { BackendPool } = await import('./helpers.js');
    const pool = new BackendPool();
    try {
      const schema = pool.newSchema('again');
      const first = pool.open({ schema });
      await first.countWaiting('q');
      const second = pool.open({ schema });
      expect(await second.countWaiting('q')).toBe(0);
      const client = await testClient();
      try {
        const versions = await client.query(`SELECT count(*)::int AS n FROM "${schema}".schema_version`);
        expect(versions.rows[0].n).toBe(MIGRATIONS.length);
      } finally {
        await client.end();
      }
    } finally {
      await pool.cleanup();
    }
  });
});
