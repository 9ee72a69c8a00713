import { describe, expect, it } from 'vitest';
import type { TaskInfo } from '../../../src/index.js';
import { delay } from '../../support/wait.js';
import type { Setup } from '../seam.js';

/** app.watch and get() over the status events: every state in order, late and cold subscribers, progress. */
export function describeStatusEvents(setup: Setup): void {
  describe('status events', () => {
    it('watch yields every state in version order and ends after the terminal one', async () => {
      const env = await setup();
      const r = await env.tasks.slow.delay('w', 100);
      const seen: TaskInfo[] = [];
      const done = (async () => {
        for await (const info of env.app.watch(r.id)) seen.push(info);
      })();
      await delay(50);
      await env.worker();
      await done;
      expect(seen.map((s) => s.state)).toEqual(['PENDING', 'STARTED', 'SUCCESS']);
      const versions = seen.map((s) => s.version);
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
      expect(new Set(versions).size).toBe(versions.length);
    });

    it('a subscriber arriving after the task finished gets the final state', async () => {
      const env = await setup();
      await env.worker();
      const r = await env.tasks.add.delay(20, 22);
      await r.get({ timeout: 5000 });
      const seen: TaskInfo[] = [];
      for await (const info of env.otherApp().watch(r.id)) seen.push(info);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ state: 'SUCCESS', result: 42 });
    });

    it('a cold app: 200 watchers and 200 get() calls opened at once all hear the terminal state by push', async () => {
      const env = await setup();
      await env.worker({ concurrency: 50 });
      // A second app whose broker connection has never subscribed: the first
      // subscriptions race the connection's handshake.
      const cold = env.otherApp();
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => env.tasks.record.delay(`cold${i}`, 20)));
      // Opened a loop turn apart, so that some land while the connection is
      // still handshaking. No resync: a lost push would leave a watcher
      // waiting past the test's timeout.
      const watched: Array<Promise<string | undefined>> = [];
      const got: Array<Promise<{ key: string }>> = [];
      const coldGets = env.otherApp();
      for (const r of results) {
        watched.push(
          (async () => {
            let last: TaskInfo | undefined;
            for await (const info of cold.watch(r.id, { resyncMs: 600_000 })) last = info;
            return last?.state;
          })(),
        );
        got.push(coldGets.result<{ key: string }>(r.id).get({ timeout: 20_000 }));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await Promise.all(watched)).toEqual(results.map(() => 'SUCCESS'));
      expect((await Promise.all(got)).map((v) => v.key)).toEqual(results.map((_, i) => `cold${i}`));
    });

    it('progress is published as PROGRESS with its value; a slow consumer still gets the terminal state', async () => {
      const env = await setup();
      const steps = env.app.task('conf.steps', async (ctx, n: number) => {
        for (let i = 1; i <= n; i++) {
          await ctx.progress(i, n, { step: `s${i}` });
          await delay(5);
        }
        return 'done';
      });
      const r = await steps.delay(20);
      const seen: TaskInfo[] = [];
      const watching = (async () => {
        for await (const info of env.app.watch(r.id)) {
          seen.push(info);
          await delay(30); // slower than the task
        }
      })();
      await env.worker();
      await watching;
      const progress = seen.filter((s) => s.state === 'PROGRESS');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[0]!.progress).toMatchObject({ total: 20 });
      expect(seen.at(-1)).toMatchObject({ state: 'SUCCESS', result: 'done' });
      const versions = seen.map((s) => s.version);
      expect(new Set(versions).size).toBe(versions.length);
    });
  });
}
