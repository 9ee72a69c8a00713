// A child of open-race.test.ts: per round, waits for the go file, spins until
// its instant, then opens a brand-new schema and enqueues one task.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresBackend } from '../../../src/backends/postgres/index.js';

const dir = process.env.RACE_DIR!;
const rounds = Number(process.env.ROUNDS);
const url = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
console.log('ready');
for (let round = 0; round < rounds; round++) {
  const go = join(dir, `go-${round}`);
  while (!existsSync(go)) await sleep(2);
  const { schema, at } = JSON.parse(readFileSync(go, 'utf8')) as { schema: string; at: number };
  while (Date.now() < at) {
    // spin: every child starts within a millisecond or so
  }
  const backend = new PostgresBackend({ url, schema, resultTtlMs: 60_000, deadLetterLimit: 10 });
  try {
    const at2 = Date.now();
    await backend.enqueue({
      id: `${process.pid}-${round}`,
      name: 'race',
      queue: 'q',
      payload: '[]',
      enqueuedAt: at2,
      runAt: at2,
    });
    console.log(`round ${round} ok`);
  } catch (error) {
    console.log(`round ${round} error ${(error as Error).message.replace(/\n/g, ' ')}`);
  } finally {
    await backend.close();
  }
}
