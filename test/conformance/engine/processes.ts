import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopChild, type Child } from '../../support/child.js';
import { delay, waitFor } from '../../support/wait.js';
import type { Broker, Setup } from '../seam.js';

/** Worker processes sharing the broker (skipped, saying why, where capabilities.crossProcess is false). */
export function describeSeveralProcesses(setup: Setup, broker: Broker): void {
  describe('several processes', () => {
    const children: Child[] = [];
    afterEach(async () => {
      for (const child of children.splice(0)) await stopChild(child);
    });

    it('two worker processes share the broker and run each task once', async (ctx) => {
      if (!broker.capabilities.crossProcess) return ctx.skip(`${broker.name} is not shared between processes`);
      const env = await setup();
      const childEnv = { BROKER_URL: env.url, LOG_FILE: env.log, CONCURRENCY: '20' };
      children.push(await startChild('test/fixtures/conformance-worker.ts', childEnv));
      children.push(await startChild('test/fixtures/conformance-worker.ts', childEnv));
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => env.tasks.record.delay(`p${i}`, 2)));
      await Promise.all(results.map((r) => r.get({ timeout: 30_000 })));
      const starts = env.lines().filter((l) => l.startsWith('start '));
      expect(starts).toHaveLength(300);
      expect(new Set(starts.map((l) => l.split(' ')[1])).size).toBe(300);
      const pids = new Set(starts.map((l) => l.split(' ')[3]));
      expect(pids.size).toBe(2);
    });

    it('a task whose worker process is killed (SIGKILL) runs again on another worker', async (ctx) => {
      if (!broker.capabilities.crossProcess) return ctx.skip(`${broker.name} is not shared between processes`);
      const env = await setup();
      const victim = await startChild('test/fixtures/conformance-worker.ts', {
        BROKER_URL: env.url,
        LOG_FILE: env.log,
        LEASE_MS: '1000',
      });
      children.push(victim);
      const r = await env.tasks.slow.delay('crash', 1500);
      await waitFor(() => env.lines().some((l) => l.startsWith('start crash')), 10_000, 'first start');
      await stopChild(victim, 'SIGKILL');
      children.push(
        await startChild('test/fixtures/conformance-worker.ts', { BROKER_URL: env.url, LOG_FILE: env.log, LEASE_MS: '1000' }),
      );
      expect(await r.get({ timeout: 15_000 })).toBe('crash');
      const starts = env.lines().filter((l) => l.startsWith('start crash'));
      expect(starts).toHaveLength(2);
      expect(starts[0]!.split(' ')[3]).not.toBe(starts[1]!.split(' ')[3]);
    });

    it('a handler that blocks the event loop for three leases runs once and succeeds', async (ctx) => {
      if (!broker.capabilities.crossProcess) return ctx.skip(`${broker.name} is not shared between processes`);
      const env = await setup();
      const childEnv = { BROKER_URL: env.url, LOG_FILE: env.log, LEASE_MS: '1000' };
      children.push(await startChild('test/fixtures/conformance-worker.ts', childEnv));
      children.push(await startChild('test/fixtures/conformance-worker.ts', childEnv));
      const r = await env.tasks.block.delay('busy', 3000);
      expect(await r.get({ timeout: 20_000 })).toBe('busy');
      // Another worker would have taken it over within ~1 s if the lease had lapsed.
      await delay(1500);
      expect(env.lines().filter((l) => l.startsWith('start busy'))).toHaveLength(1);
      expect(await r.info()).toMatchObject({ state: 'SUCCESS', attempts: 1 });
    });

    it('SIGTERM stops a worker process gracefully: the running task finishes', async (ctx) => {
      if (!broker.capabilities.crossProcess) return ctx.skip(`${broker.name} is not shared between processes`);
      const env = await setup();
      const child = await startChild('test/fixtures/conformance-worker.ts', { BROKER_URL: env.url, LOG_FILE: env.log });
      children.push(child);
      const r = await env.tasks.slow.delay('term', 500);
      await waitFor(() => env.lines().some((l) => l.startsWith('start term')), 10_000);
      child.process.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      expect((await r.info())!.state).toBe('SUCCESS');
    });

    it("the README's worker process exits by itself after SIGTERM", async (ctx) => {
      if (!broker.capabilities.crossProcess) return ctx.skip(`${broker.name} is not shared between processes`);
      const env = await setup();
      const child = await startChild('test/fixtures/readme-worker.ts', { BROKER_URL: env.url });
      children.push(child);
      const r = await env.app.sendTask('readme.noop', []);
      expect(await r.get({ timeout: 10_000 })).toBe('ok');
      child.process.kill('SIGTERM');
      const code = await Promise.race([child.exited, delay(10_000).then(() => 'still running')]);
      expect(code).toBe(0);
    });

    it('status events reach a watcher in another process', async (ctx) => {
      if (!broker.capabilities.crossProcess) return ctx.skip(`${broker.name} is not shared between processes`);
      const env = await setup();
      children.push(await startChild('test/fixtures/conformance-worker.ts', { BROKER_URL: env.url, LOG_FILE: env.log }));
      const r = await env.tasks.slow.delay('remote', 200);
      const states: string[] = [];
      for await (const info of env.app.watch(r.id, { resyncMs: 60_000 })) states.push(info.state);
      expect(states.at(-1)).toBe('SUCCESS');
      expect(states).toContain('STARTED');
    });
  });
}
