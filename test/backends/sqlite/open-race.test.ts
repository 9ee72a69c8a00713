import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { startChild, stopChild, type Child } from '../../support/child.js';
import { waitFor } from '../../support/wait.js';

// Measured on a 2-CPU machine before the fix: about 1 in 70 opens lost the
// race (SQLITE_BUSY from PRAGMA journal_mode = WAL), so 12 x 36 opens hit it
// in practically every run; after it, none in thousands.
const PROCESSES = 12;
const ROUNDS = 36;

it('many processes opening the same brand-new file at the same instant all succeed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'errand-open-race-'));
  const children: Child[] = [];
  try {
    children.push(
      ...(await Promise.all(
        Array.from({ length: PROCESSES }, () =>
          startChild('test/fixtures/sqlite/open-race-child.ts', { RACE_DIR: dir, ROUNDS: String(ROUNDS) }),
        ),
      )),
    );
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const file = join(dir, `round-${round}`, 'errand.db');
      // every child spins until `at`, then opens the (not yet existing) file
      const go = join(dir, `go-${round}`);
      writeFileSync(`${go}.tmp`, JSON.stringify({ file, at: Date.now() + 20 }));
      renameSync(`${go}.tmp`, go);
      const done = new RegExp(`^round ${round} (ok|error.*)$`, 'm');
      const lines = await waitFor(
        () => {
          const found = children.map((c) => done.exec(c.output())?.[0]);
          return found.every((line) => line !== undefined) ? (found as string[]) : undefined;
        },
        20_000,
        `round ${round} of every child`,
      );
      const failed = lines.filter((line) => line !== `round ${round} ok`);
      failures.push(...failed);
      const db = new Database(file);
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(db.prepare('SELECT count(*) FROM tasks').pluck().get()).toBe(PROCESSES - failed.length);
      } finally {
        db.close();
      }
    }
    console.log(`open race: ${PROCESSES} processes x ${ROUNDS} rounds, ${failures.length} failed opens`);
    expect(failures).toEqual([]);
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
