// Scenario 3: the broker stops answering for longer than a lease, then comes back.
//   Redis (a server of the suite's own): CLIENT PAUSE 2500 ALL from a separate client.
//   SQLite: another process holds the write lock (BEGIN IMMEDIATE) for 2500 ms.
// Leases are 1000 ms, so every lease held when the stall began runs out during it.
//
// The rule asserted: a stall may cost a re-run only of tasks whose first run
// had started before the stall ended (their lease could not be renewed), never
// of a task that first started after it, and at most as many as the workers
// can hold leases for (2 x concurrency each: running + finished-but-unrecorded).
// Every task ends SUCCESS, and the workers recover without a restart.
import { expect, it } from 'vitest';
import { createApp } from '../../src/index.js';
import { describeChaos } from './brokers.js';
import { startProducer, startWorker } from './fleet.js';
import {
  bytesIn,
  countRuns,
  MemoryMonitor,
  onCleanup,
  readLines,
  reportFigures,
  settle,
  stateCounts,
  tempDir,
  until,
} from './harness.js';

const TASKS = 3000;
const TASK_MS = 20;
const WORKERS = 2;
const CONCURRENCY = 10;
const LEASE_MS = 1000;
const STALL_MS = 2500;
const STALL_AT_RUNS = 800;

describeChaos(
  'broker-stall',
  (broker) => {
    it(`a ${STALL_MS} ms stall with ${LEASE_MS} ms leases: every task SUCCESS, re-runs only of tasks started before it ended`, async () => {
      const started = Date.now();
      const server = broker.hasServer ? await broker.startServer!({}) : undefined;
      const ns = await broker.namespace('stall', server);
      const records = tempDir('stall-records');
      const acks = tempDir('stall-acks');
      const memory = new MemoryMonitor();

      const workers = await Promise.all(
        Array.from({ length: WORKERS }, (_, i) =>
          startWorker(ns, { name: `worker-${i + 1}`, recordDir: records, concurrency: CONCURRENCY, leaseMs: LEASE_MS }, memory),
        ),
      );
      const producer = await startProducer(
        ns,
        { ackDir: acks, mode: 'bulk', count: TASKS, batch: 500, task: 'work', taskMs: String(TASK_MS) },
        memory,
      );
      await producer.waitForLine(/^done /, 60_000);
      const ids = readLines(acks, '.ack').map((a) => a.id);
      expect(ids).toHaveLength(TASKS);

      await until(`${STALL_AT_RUNS} runs`, () => bytesIn(records, '.rec') / 51 >= STALL_AT_RUNS, 60_000, 5);
      const stalling = await ns.prepareStall(STALL_MS);
      const leasedBefore = await ns.leased();
      const stall = await stalling.begin();

      const app = createApp({ broker: ns.url, logger: false });
      onCleanup(() => app.close());
      const leasedSettled = await settle(app, leasedBefore, 60_000, 50);
      const { states, pending } = await settle(app, ids, 120_000);
      const peakRssMb = memory.stop();

      const runs = readLines(records, '.rec');
      const { runs: byId, duplicates, duplicateIds } = countRuns(runs);
      const firstRun = (id: string): number => Math.min(...byId.get(id)!.map((r) => r.at));
      const rerunOfLateStarts = duplicateIds.filter((id) => firstRun(id) >= stall.endedAt);
      const leasedSet = new Set(leasedBefore);
      const resumedAt = Math.min(...runs.filter((r) => r.at >= stall.endedAt).map((r) => r.at));
      const leasedDoneAt = Math.max(stall.endedAt, ...[...leasedSettled.states.values()].map((i) => i?.finishedAt ?? 0));
      const counts = stateCounts(states);

      reportFigures('broker-stall', broker.name, {
        stall: stall.how,
        stallMs: stall.endedAt - stall.startedAt,
        leaseMs: LEASE_MS,
        tasks: TASKS,
        workers: WORKERS,
        concurrency: CONCURRENCY,
        states: counts,
        lost: TASKS - (counts.SUCCESS ?? 0),
        runs: runs.length,
        duplicates,
        duplicatesOfTasksLeasedAtStall: duplicateIds.filter((id) => leasedSet.has(id)).length,
        rerunOfLateStarts: rerunOfLateStarts.length,
        leasedAtStall: leasedBefore.length,
        recoveryMs: {
          firstRunAfterStall: resumedAt - stall.endedAt,
          leasedAtStallAllFinished: leasedDoneAt - stall.endedAt,
        },
        workersAlive: workers.filter((w) => w.proc.alive).length,
        totalMs: Date.now() - started,
        peakRssMb,
      });

      expect(pending).toEqual([]);
      expect(leasedSettled.pending).toEqual([]);
      expect(counts).toEqual({ SUCCESS: TASKS });
      expect(ids.filter((id) => !byId.has(id))).toEqual([]);
      expect(rerunOfLateStarts).toEqual([]);
      expect(duplicates).toBeLessThanOrEqual(WORKERS * 2 * CONCURRENCY);
      // recovered on its own: the same worker processes, work resumed within a few seconds
      expect(workers.every((w) => w.proc.alive)).toBe(true);
      expect(resumedAt - stall.endedAt).toBeLessThan(10_000);
      for (const [name, mb] of Object.entries(peakRssMb)) expect(mb, name).toBeLessThan(500);
    });
  },
  { needsServer: true },
);
