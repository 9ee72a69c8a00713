import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';
import { describeRedis, uniqueRedisUrl } from '../support/redis.js';
import { delay, waitFor } from '../support/wait.js';
import { checkTicks, jitterLine, recordingLogger } from './beat-log.js';

const EVERY_MS = 250;
const RUN_MS = 3000;

/**
 * Two apps on one broker, as two processes would be: one runs a worker with
 * beat: true, the other app.beat(). Every tick must be enqueued once, with no
 * gap, and the worker must run exactly those tasks.
 */
async function twoBeatLoops(label: string, broker: string | undefined): Promise<void> {
  const logs = [recordingLogger(), recordingLogger()];
  const executed: string[] = [];
  const apps: Errand[] = [];
  try {
    for (const logger of logs) {
      // memory:// is one process's: the second app shares the first one's broker instance
      const app = createApp({ broker: broker ?? apps[0]?.backend ?? 'memory://', logger });
      app.task('beat.tick', (ctx) => void executed.push(ctx.id));
      app.schedule('fast', { every: EVERY_MS, catchUp: 'none' }, 'beat.tick');
      apps.push(app);
    }
    const worker = apps[0]!.worker({ beat: true, handleSignals: false, claimWaitMs: 100 });
    await worker.start();
    const beat = apps[1]!.beat();
    const started = Date.now();
    await delay(RUN_MS);
    const ended = Date.now();
    await beat.stop();
    await worker.stop(); // stops its beat loop first
    const fired = logs.flatMap((l) => l.fired);
    const { ticks, taskIds, problems } = checkTicks(fired, EVERY_MS);
    console.log(jitterLine(`${label}, two loops in one process, every ${EVERY_MS} ms`, fired));
    expect(problems).toEqual([]);
    expect(logs.map((l) => l.errors)).toEqual([[], []]);
    // every tick while both loops ran is there (a little slack at the end for a late timer)
    for (let t = (Math.floor(started / EVERY_MS) + 1) * EVERY_MS; t <= ended - 150; t += EVERY_MS) expect(ticks).toContain(t);
    // both loops fired (nearly) every tick; each tick stored once
    expect(logs[0]!.fired.length).toBeGreaterThan(ticks.length - 3);
    expect(logs[1]!.fired.length).toBeGreaterThan(ticks.length - 3);
    // drain what the stopped worker left queued, then compare what ran with what was stored
    const drain = apps[0]!.worker({ handleSignals: false, claimWaitMs: 100 });
    await drain.start();
    await waitFor(() => executed.length >= taskIds.size, 10_000, 'every tick task to run');
    await delay(200);
    await drain.stop();
    expect(new Set(executed).size).toBe(executed.length);
    expect(new Set(executed)).toEqual(taskIds);
  } finally {
    for (const app of apps.reverse()) await app.close();
  }
}

describe('beat on the memory broker', () => {
  it(`two beat loops, every ${EVERY_MS} ms for ${RUN_MS} ms: each tick once, no gap`, async () => {
    await twoBeatLoops('memory', undefined);
  });
});

describe('beat on SQLite', () => {
  it(`two beat loops, every ${EVERY_MS} ms for ${RUN_MS} ms: each tick once, no gap`, async () => {
    const dir = join(tmpdir(), `errand-beat-${randomUUID()}`);
    try {
      await twoBeatLoops('sqlite', `sqlite://${join(dir, 'errand.db')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a 1-second cron schedule on the real clock', () => {
  it('fires on whole seconds, each once, from two loops', async () => {
    const logs = [recordingLogger(), recordingLogger()];
    const first = createApp({ broker: 'memory://', logger: logs[0]! });
    const apps = [first, createApp({ broker: first.backend, logger: logs[1]! })];
    try {
      for (const app of apps) {
        app.task('beat.tick', () => 'ok');
        app.schedule('each-second', { cron: '* * * * * *', catchUp: 'none' }, 'beat.tick');
      }
      const beats = apps.map((app) => app.beat());
      await delay(2300);
      await Promise.all(beats.map((beat) => beat.stop()));
      const fired = logs.flatMap((l) => l.fired);
      const { ticks, problems } = checkTicks(fired, 1000);
      console.log(jitterLine('memory, cron every second, two loops', fired));
      expect(problems).toEqual([]);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks.every((t) => t % 1000 === 0)).toBe(true);
    } finally {
      for (const app of apps.reverse()) await app.close();
    }
  });
});

describeRedis('beat on Redis', () => {
  it(`two beat loops, every ${EVERY_MS} ms for ${RUN_MS} ms: each tick once, no gap`, async () => {
    await twoBeatLoops('redis', uniqueRedisUrl('beat'));
  });
});
