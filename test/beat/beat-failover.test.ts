import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/index.js';
import { startChild, stopChild, type Child } from '../support/child.js';
import { describeRedis, uniqueRedisUrl } from '../support/redis.js';
import { delay, waitFor } from '../support/wait.js';
import { checkTicks, jitterLine, type Fired } from './beat-log.js';

const EVERY_MS = 250;
/** How much later than one period the next tick may come after a beat process dies (a loaded 2-core CI box). */
const GAP_BOUND_MS = 200;

function firedLines(child: Child): Fired[] {
  return child
    .output()
    .split('\n')
    .filter((l) => l.startsWith('fired '))
    .map((l) => JSON.parse(l.slice('fired '.length)) as Fired);
}

/**
 * Two beat processes on one broker; one is SIGKILLed mid-run. The other goes
 * on: each tick enqueued once (by whichever process came first), no tick
 * missing, and the time between fires never more than a period plus a bound.
 */
async function failover(label: string, url: string): Promise<void> {
  const env = { BROKER_URL: url, EVERY_MS: String(EVERY_MS) };
  const [victim, survivor] = await Promise.all([
    startChild('test/fixtures/beat/beat-process.ts', env),
    startChild('test/fixtures/beat/beat-process.ts', env),
  ]);
  let killedAt = 0;
  try {
    await delay(1200);
    killedAt = Date.now();
    await stopChild(victim, 'SIGKILL');
    await delay(1800);
  } finally {
    await stopChild(victim, 'SIGKILL');
    await stopChild(survivor, 'SIGTERM');
  }
  const before = firedLines(victim);
  const after = firedLines(survivor);
  const all = [...before, ...after];
  const { ticks, taskIds, problems } = checkTicks(all, EVERY_MS);
  console.log(jitterLine(`${label}, two processes, one SIGKILLed`, all));
  expect(problems).toEqual([]);
  expect(before.length).toBeGreaterThanOrEqual(2); // the victim was firing too before it died
  expect(survivor.output()).not.toMatch(/^error /m);
  // the survivor fired every tick after the kill, each within a period plus the bound of the one before
  const afterKill = after.filter((f) => f.tick > killedAt).sort((a, b) => a.tick - b.tick);
  expect(afterKill.length).toBeGreaterThanOrEqual(5);
  for (let i = 1; i < afterKill.length; i++) {
    const gap = afterKill[i]!.tick + afterKill[i]!.lateMs - (afterKill[i - 1]!.tick + afterKill[i - 1]!.lateMs);
    expect(gap).toBeLessThanOrEqual(EVERY_MS + GAP_BOUND_MS);
  }
  expect(ticks.at(-1)! - ticks[0]!).toBeGreaterThanOrEqual(2500);
  // the broker holds exactly those tasks: a worker runs each once, and nothing else
  const executed: string[] = [];
  const app = createApp({ broker: url, logger: false });
  try {
    app.task('beat.tick', (ctx) => void executed.push(ctx.id));
    const worker = app.worker({ handleSignals: false, claimWaitMs: 100, concurrency: 20 });
    await worker.start();
    await waitFor(() => executed.length >= taskIds.size, 10_000, 'every tick task to run');
    await delay(300);
    await worker.stop();
  } finally {
    await app.close();
  }
  expect(executed.length).toBe(taskIds.size);
  expect(new Set(executed)).toEqual(taskIds);
}

describe('beat failover on SQLite', () => {
  it('two beat processes, one SIGKILLed: ticks keep coming, none twice, none missing', async () => {
    const dir = join(tmpdir(), `errand-beat-${randomUUID()}`);
    try {
      await failover('sqlite', `sqlite://${join(dir, 'errand.db')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeRedis('beat failover on Redis', () => {
  it('two beat processes, one SIGKILLed: ticks keep coming, none twice, none missing', async () => {
    await failover('redis', uniqueRedisUrl('beat-failover'));
  });
});
