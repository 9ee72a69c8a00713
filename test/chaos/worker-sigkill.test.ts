// Scenario 1: SIGKILL a worker process twice in the middle of 5,000 short tasks.
// Two worker processes share the queue; a replacement starts after each kill.
// Every handler run is recorded outside errand (test/fixtures/chaos/tasks.ts).
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createApp } from '../../src/index.js';
import { describeChaos } from './brokers.js';
import {
  bytesIn,
  countRuns,
  MemoryMonitor,
  onCleanup,
  readLines,
  reportFigures,
  settle,
  startNode,
  stateCounts,
  tempDir,
  until,
  type ChaosProcess,
} from './harness.js';

const TASKS = 5000;
const TASK_MS = 10;
const CONCURRENCY = 20;
const LEASE_MS = 1000;
/** Kill when this many runs are recorded (of TASKS). */
const KILL_AT = [1500, 3200];
const RECORD_LINE_BYTES = 51;

describeChaos('worker-sigkill', (broker) => {
  it(`${TASKS} tasks, 2 workers, 2 SIGKILLs: every task SUCCESS, duplicates only among the killed workers' leases`, async () => {
    const ns = await broker.namespace('sigkill');
    const records = tempDir('sigkill-records');
    const acks = tempDir('sigkill-acks');
    const memory = new MemoryMonitor();
    const started = Date.now();

    const producer = await startNode('producer', 'test/fixtures/chaos/producer.ts', {
      BROKER_URL: ns.url,
      ACK_DIR: acks,
      MODE: 'bulk',
      COUNT: String(TASKS),
      BATCH: '500',
      TASK: 'work',
      TASK_MS: String(TASK_MS),
    });
    memory.watch('producer', producer.proc.pid);
    await producer.proc.waitForLine(/^done /, 60_000);
    const ids = readLines(acks, '.ack').map((a) => a.id);
    expect(ids).toHaveLength(TASKS);

    let n = 0;
    const startWorker = async (): Promise<{ proc: ChaosProcess; id: string }> => {
      const name = `worker-${++n}`;
      const id = `chaos-${name}-${randomUUID().slice(0, 6)}`;
      const { proc } = await startNode(name, 'test/fixtures/chaos/worker.ts', {
        BROKER_URL: ns.url,
        WORKER_ID: id,
        RECORD_DIR: records,
        CONCURRENCY: String(CONCURRENCY),
        LEASE_MS: String(LEASE_MS),
        RESCUE_MS: '200',
      });
      memory.watch(name, proc.pid);
      return { proc, id };
    };
    const workers = await Promise.all([startWorker(), startWorker()]);

    const app = createApp({ broker: ns.url, logger: false });
    onCleanup(() => app.close());

    const kills: Array<{
      worker: string;
      leasedBefore: number;
      leasedAtKill: string[];
      recordsAtKill: number;
      killedAt: number;
    }> = [];
    for (const [k, threshold] of KILL_AT.entries()) {
      await until(`${threshold} recorded runs`, () => bytesIn(records, '.rec') / RECORD_LINE_BYTES >= threshold, 60_000, 5);
      const victim = workers[k % 2]!;
      const leasedBefore = (await ns.leased(victim.id)).length;
      victim.proc.signal('SIGKILL');
      const killedAt = Date.now();
      await victim.proc.exited;
      // The dead worker's leases are frozen now (nothing renews them) and stay until they expire
      // (LEASE_MS after its last renewal, at least 2/3 of a lease from now): this is what it held.
      const leasedAtKill = await ns.leased(victim.id);
      kills.push({
        worker: victim.id,
        leasedBefore,
        leasedAtKill,
        recordsAtKill: Math.floor(bytesIn(records, '.rec') / RECORD_LINE_BYTES),
        killedAt,
      });
      workers[k % 2] = await startWorker();
    }

    // Recovery: from the kill until every task the killed worker held is finished elsewhere.
    const recoveryMs = await Promise.all(
      kills.map(async (kill) => {
        const { states, pending } = await settle(app, kill.leasedAtKill, 60_000, 50);
        expect(pending).toEqual([]);
        const finished = [...states.values()].map((info) => info?.finishedAt ?? Number.NaN);
        return finished.length === 0 ? 0 : Math.max(...finished) - kill.killedAt;
      }),
    );

    const { states, pending } = await settle(app, ids, 120_000);
    const peakRssMb = memory.stop();
    const counts = stateCounts(states);
    const runs = readLines(records, '.rec');
    const { runs: byId, duplicates, duplicateIds } = countRuns(runs);
    const neverRun = ids.filter((id) => !byId.has(id));
    const lost = ids.filter((id) => states.get(id)?.state !== 'SUCCESS').length;
    const killedLeases = new Set(kills.flatMap((k) => k.leasedAtKill));
    const duplicatesOutsideKilledLeases = duplicateIds.filter((id) => !killedLeases.has(id));

    reportFigures('worker-sigkill', broker.name, {
      tasks: TASKS,
      workers: 2,
      concurrency: CONCURRENCY,
      leaseMs: LEASE_MS,
      taskMs: TASK_MS,
      kills: kills.length,
      states: counts,
      lost,
      neverRun: neverRun.length,
      runs: runs.length,
      duplicates,
      duplicatesOutsideKilledLeases: duplicatesOutsideKilledLeases.length,
      leasedJustBeforeKill: kills.map((k) => k.leasedBefore),
      leasedAtKill: kills.map((k) => k.leasedAtKill.length),
      recordsAtKill: kills.map((k) => k.recordsAtKill),
      recoveryMs,
      totalMs: Date.now() - started,
      peakRssMb,
    });

    expect(pending).toEqual([]);
    expect(counts).toEqual({ SUCCESS: TASKS });
    expect(neverRun).toEqual([]);
    // At least once: a task runs again only if the killed worker held it when it died.
    expect(duplicatesOutsideKilledLeases).toEqual([]);
    expect(duplicates).toBeLessThanOrEqual(killedLeases.size);
    for (const kill of kills) expect(kill.leasedAtKill.length).toBeLessThanOrEqual(2 * CONCURRENCY);
    for (const ms of recoveryMs) expect(ms).toBeLessThan(10 * LEASE_MS);
    for (const [name, mb] of Object.entries(peakRssMb)) expect(mb, name).toBeLessThan(500);
  });
});
