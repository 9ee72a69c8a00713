// Scenario 4: a handler that blocks its worker's event loop for 3 s (a
// synchronous busy-wait) under a 1000 ms lease, with two worker processes.
// The lease must survive the blocked loop (it is renewed from a worker
// thread), so the task runs exactly once and ends SUCCESS.
// The control case turns the thread off (leaseThread: false, renewal on the
// event loop, as before the fix): the other worker then rescues the "dead"
// lease and runs the task again, which shows the scenario catches the fault.
import { expect, it } from 'vitest';
import { createApp } from '../../src/index.js';
import { describeChaos, type ChaosBroker } from './brokers.js';
import { startWorker } from './fleet.js';
import { countRuns, MemoryMonitor, onCleanup, readLines, reportFigures, settle, sleep, tempDir } from './harness.js';

const LEASE_MS = 1000;
const BLOCK_MS = 3000;

async function runBusyTask(broker: ChaosBroker, leaseThread: boolean) {
  const started = Date.now();
  const ns = await broker.namespace('busy');
  const records = tempDir('busy-records');
  const memory = new MemoryMonitor();
  await Promise.all(
    [1, 2].map((i) =>
      startWorker(ns, { name: `worker-${i}`, recordDir: records, concurrency: 4, leaseMs: LEASE_MS, leaseThread }, memory),
    ),
  );

  const app = createApp({ broker: ns.url, logger: false });
  onCleanup(() => app.close());
  const busy = app.task('chaos.busy', (_ctx, ms: number) => ms);
  const { id } = await busy.delay(BLOCK_MS);
  const { states, pending } = await settle(app, [id], 90_000, 1);
  await sleep(500); // a second run already under way would have recorded its start by now
  const info = states.get(id) ?? null;
  const runs = readLines(records, '.rec');
  const { duplicates } = countRuns(runs);

  reportFigures(leaseThread ? 'busy-loop' : 'busy-loop-control', broker.name, {
    leaseThread,
    leaseMs: LEASE_MS,
    blockMs: BLOCK_MS,
    tasks: 1,
    state: info?.state ?? 'missing',
    error: info?.error ? `${info.error.type}: ${info.error.message}` : undefined,
    runs: runs.length,
    duplicates,
    workerProcessesThatRanIt: new Set(runs.map((r) => r.pid)).size,
    attempts: info?.attempts,
    finishedAfterMs: info?.finishedAt !== undefined ? info.finishedAt - info.enqueuedAt : undefined,
    totalMs: Date.now() - started,
    peakRssMb: memory.stop(),
  });
  return { pending, info, runs };
}

describeChaos('busy-loop', (broker) => {
  it(`a handler blocking the event loop for ${BLOCK_MS} ms with ${LEASE_MS} ms leases runs once and ends SUCCESS`, async () => {
    const { pending, info, runs } = await runBusyTask(broker, true);
    expect(pending).toEqual([]);
    expect(info?.state).toBe('SUCCESS');
    expect(runs).toHaveLength(1);
  });

  it('control: with leases renewed on the event loop (leaseThread: false) the same task is run again', async () => {
    const { pending, runs } = await runBusyTask(broker, false);
    expect(pending).toEqual([]);
    expect(runs.length).toBeGreaterThan(1);
  });
});
