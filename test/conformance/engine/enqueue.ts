import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../../src/index.js';
import type { Setup } from '../seam.js';

/** delay/applyAsync, a worker running the task, reading its result. */
export function describeEnqueue(setup: Setup): void {
  describe('enqueue and results', () => {
    it('delay returns an unguessable id at once, with the task PENDING and stored', async () => {
      const env = await setup();
      const r = await env.tasks.add.delay(2, 3);
      expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
      const info = await r.info();
      expect(info).toMatchObject({ id: r.id, name: 'conf.add', queue: 'default', state: 'PENDING', version: 1, attempts: 0 });
      // Another app on the same broker sees it: it is stored, not held in the producer.
      expect((await env.otherApp().result(r.id).info())?.state).toBe('PENDING');
      expect(env.lines()).toEqual([]);
    });

    it('a worker runs the task and the result is readable, with times and attempts', async () => {
      const env = await setup();
      await env.worker();
      const r = await env.tasks.add.delay(2, 3);
      expect(await r.get({ timeout: 5000 })).toBe(5);
      const info = (await r.info())!;
      expect(info.state).toBe('SUCCESS');
      expect(info.result).toBe(5);
      expect(info.attempts).toBe(1);
      expect(info.startedAt).toBeGreaterThanOrEqual(info.enqueuedAt);
      expect(info.finishedAt).toBeGreaterThanOrEqual(info.startedAt!);
      expect(info.version).toBeGreaterThanOrEqual(3);
    });

    it('info() is null for an unknown id', async () => {
      const env = await setup();
      expect(await env.app.result(randomUUID()).info()).toBeNull();
    });

    it('get() times out with TimeoutError when no worker runs', async () => {
      const env = await setup();
      const r = await env.tasks.add.delay(1, 1);
      await expect(r.get({ timeout: 150 })).rejects.toBeInstanceOf(TimeoutError);
    });

    it('runs each task once when nothing crashes (two workers, 200 tasks)', async () => {
      const env = await setup();
      await env.worker({ concurrency: 20 });
      await env.worker({ concurrency: 20 });
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => env.tasks.record.delay(`k${i}`)));
      await Promise.all(results.map((r) => r.get({ timeout: 20_000 })));
      const starts = env.lines().filter((l) => l.startsWith('start '));
      expect(starts).toHaveLength(200);
      expect(new Set(starts.map((l) => l.split(' ')[1])).size).toBe(200);
    });
  });
}
