// A worker process SIGKILLed in the middle of a chain (docs/workflows.md,
// "No lost step"): the step it was running runs again on another worker once
// its lease expires, the steps that had finished are not re-run, and the
// chain ends with the right result.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createApp } from '../../src/index.js';
import { defineChainTasks, readChainRuns } from '../fixtures/workflows/chain-tasks.js';
import { describeEachBroker } from '../support/brokers.js';
import { startChild, stopChild } from '../support/child.js';
import { waitFor } from '../support/wait.js';

/** The killed worker's lease: the rerun of b waits for it to expire. */
const LEASE_MS = 2000;

describeEachBroker(
  'a chain whose worker is SIGKILLed mid-chain',
  (target) => {
    const opened: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const close of opened.splice(0).reverse()) await close();
    });

    it('resumes on another worker: the running step runs again, the finished one does not, the chain ends with the right result', async () => {
      const url = target.makeUrl('chainkill');
      const dir = join(tmpdir(), `errand-chainkill-${randomUUID()}`);
      mkdirSync(dir, { recursive: true });
      const log = join(dir, 'runs.log');
      const app = createApp({ broker: url, logger: false });
      opened.push(async () => {
        await app.close();
        await target.cleanup?.(url);
        rmSync(dir, { recursive: true, force: true });
      });
      const { a, b, c } = defineChainTasks(app, log);

      // a(4) = 5 → b(5, 3) = 15 → c(15, '!') = '15!'
      const flow = await app.chain<string>(a.s(4), b.s(3), c.s('!'));

      const victim = await startChild('test/fixtures/workflows/chain-worker.ts', {
        BROKER_URL: url,
        RUN_LOG: log,
        LEASE_MS: String(LEASE_MS),
        BLOCK_B: '1',
      });
      opened.push(() => stopChild(victim));
      const victimPid = victim.process.pid!;

      await waitFor(() => readChainRuns(log).some((r) => r.step === 'b'), 20_000, 'step b to start on the first worker');
      await waitFor(async () => (await flow.info())?.steps[1]?.state === 'STARTED', 20_000, 'step b to be STARTED');
      const before = (await flow.info())!;
      expect(before.steps.map((s) => s.state)).toEqual(['SUCCESS', 'STARTED', undefined]);
      expect(before).toMatchObject({ state: 'STARTED', done: 1, total: 3 });

      await stopChild(victim, 'SIGKILL');
      expect(victim.process.signalCode).toBe('SIGKILL');

      // The second worker, in this process: it rescues b once the dead worker's lease expires.
      const worker = app.worker({
        handleSignals: false,
        leaseMs: LEASE_MS,
        rescueIntervalMs: 200,
        claimWaitMs: 50,
        concurrency: 4,
        report: false,
      });
      await worker.start();
      opened.push(() => worker.stop({ graceMs: 0 }));

      expect(await flow.get({ timeout: 40_000 })).toBe('15!');

      const info = (await flow.info())!;
      expect(info).toMatchObject({ kind: 'chain', state: 'SUCCESS', total: 3, done: 3, result: '15!' });
      expect(info.steps.map((s) => [s.name, s.state])).toEqual([
        ['chain.a', 'SUCCESS'],
        ['chain.b', 'SUCCESS'],
        ['chain.c', 'SUCCESS'],
      ]);

      const runs = readChainRuns(log);
      const of = (step: string) => runs.filter((r) => r.step === step);
      // a finished before the kill: never re-run
      expect(of('a').map((r) => ({ pid: r.pid, args: r.args }))).toEqual([{ pid: victimPid, args: [4] }]);
      // b: the run the kill cut off, then one more of the same task (at least once, not more), both given a's result
      expect(of('b').map((r) => ({ pid: r.pid, taskId: r.taskId, args: r.args }))).toEqual([
        { pid: victimPid, taskId: info.steps[1]!.taskId, args: [5, 3] },
        { pid: process.pid, taskId: info.steps[1]!.taskId, args: [5, 3] },
      ]);
      // c: once, after b, with b's result
      expect(of('c').map((r) => ({ pid: r.pid, taskId: r.taskId, args: r.args }))).toEqual([
        { pid: process.pid, taskId: info.steps[2]!.taskId, args: [15, '!'] },
      ]);
      expect(runs.map((r) => r.step)).toEqual(['a', 'b', 'b', 'c']);
    }, 60_000);
  },
  ['sqlite', 'redis', 'postgres'],
);
