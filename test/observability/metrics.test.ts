import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';
import { errandMetrics, serveMetrics } from '../../src/metrics/index.js';

/** One sample of a metric with these labels, from Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('errand/metrics', () => {
  let app: Errand | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('counts what was enqueued and how each attempt ended, with queue depth and active workers at scrape', async () => {
    app = createApp({ broker: 'memory://', logger: false });
    const ok = app.task('m.ok', (_ctx, n: number) => n);
    const flaky = app.task(
      'm.flaky',
      (ctx) => {
        if (ctx.attempt < 3) throw new Error('not yet');
        return 'done';
      },
      { retry: { max: 5, backoff: { base: 1, cap: 1 } } },
    );
    const bad = app.task('m.bad', () => {
      throw new TypeError('broken');
    });
    app.task('m.later', () => 1, { queue: 'later' });
    const metrics = errandMetrics(app);
    const server = await serveMetrics(metrics);
    try {
      await app.sendTask('m.later', [], { countdown: 60_000 });
      await app.sendTask('m.later', [], { countdown: 60_000 });
      const worker = app.worker({ handleSignals: false, claimWaitMs: 20 });
      await worker.start();
      const results = [...(await ok.delayMany([[1], [2], [3]])), await flaky.delay(), await bad.delay()];
      await Promise.all(results.map((r) => r.get({ timeout: 5000 }).catch(() => undefined)));
      const text = await (await fetch(server.url)).text();
      expect(sample(text, 'errand_tasks_enqueued_total', { task: 'm.ok', queue: 'default' })).toBe(3);
      expect(sample(text, 'errand_tasks_enqueued_total', { task: 'm.later', queue: 'later' })).toBe(2);
      expect(sample(text, 'errand_task_attempts_total', { task: 'm.ok', result: 'success' })).toBe(3);
      expect(sample(text, 'errand_task_attempts_total', { task: 'm.flaky', result: 'retry' })).toBe(2);
      expect(sample(text, 'errand_task_attempts_total', { task: 'm.flaky', result: 'success' })).toBe(1);
      expect(sample(text, 'errand_task_retries_total', { task: 'm.flaky' })).toBe(2);
      expect(sample(text, 'errand_tasks_finished_total', { task: 'm.bad', state: 'FAILURE' })).toBe(1);
      expect(sample(text, 'errand_tasks_finished_total', { task: 'm.ok', state: 'SUCCESS' })).toBe(3);
      expect(sample(text, 'errand_task_run_seconds_count', { task: 'm.ok', result: 'success' })).toBe(3);
      expect(sample(text, 'errand_task_wait_seconds_count', { task: 'm.flaky' })).toBe(1);
      expect(sample(text, 'errand_queue_depth', { queue: 'later' })).toBe(2);
      expect(sample(text, 'errand_queue_depth', { queue: 'default' })).toBe(0);
      expect(sample(text, 'errand_workers_active')).toBe(1);
      await worker.stop();
      expect(sample(await (await fetch(server.url)).text(), 'errand_workers_active')).toBe(0);
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('counts a dead letter, and stop() ends the recording', async () => {
    app = createApp({ broker: 'memory://', logger: false });
    const metrics = errandMetrics(app, { prefix: 'myapp_' });
    const worker = app.worker({ handleSignals: false, claimWaitMs: 20 });
    await worker.start();
    const r = await app.sendTask('nobody.knows', []);
    await r.get({ timeout: 5000 }).catch(() => undefined);
    let text = (await metrics.render()).body;
    expect(sample(text, 'myapp_dead_letters_total', { queue: 'default' })).toBe(1);
    metrics.stop();
    await (await app.sendTask('nobody.knows', [])).get({ timeout: 5000 }).catch(() => undefined);
    text = (await metrics.render()).body;
    expect(sample(text, 'myapp_dead_letters_total', { queue: 'default' })).toBe(1);
    expect(() => errandMetrics(app!, { prefix: '9bad' })).toThrow(/prefix/);
  });
});
