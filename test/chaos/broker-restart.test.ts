// Scenario 2: the broker goes down hard in the middle of a run, and comes back.
//   Redis (a server of the suite's own, AOF on): kill -9 the server while
//   producers enqueue and a worker runs; restart it ~1 s later on the same port
//   and dir. Worker, producer and web process must reconnect by themselves.
//   SQLite (no server): SIGKILL every process that has the file open, then start
//   them again; PRAGMA integrity_check must say ok.
// A task counts as acknowledged once its delay() resolved (the producer then
// appends its id to an ack file).
import { expect, it } from 'vitest';
import { createApp } from '../../src/index.js';
import { describeChaos, type ChaosBroker, type ChaosNamespace, type ServerOptions } from './brokers.js';
import { startProducer, startWeb, startWorker, StatusPoller } from './fleet.js';
import {
  countRuns,
  LineTail,
  MemoryMonitor,
  onCleanup,
  readLines,
  reportFigures,
  settle,
  sleep,
  stateCounts,
  tempDir,
  until,
  type ChaosProcess,
} from './harness.js';

const LEASE_MS = 1000;
const RUN_BEFORE_CRASH_MS = 2500;
const DOWN_MS = 1000;
const RUN_AFTER_RECOVERY_MS = 1500;

interface Fleet {
  procs: ChaosProcess[];
  web: string;
}

async function scenario(broker: ChaosBroker, serverOptions?: ServerOptions): Promise<void> {
  const started = Date.now();
  const server = serverOptions ? await broker.startServer!(serverOptions) : undefined;
  const ns: ChaosNamespace = await broker.namespace('restart', server);
  const records = tempDir('restart-records');
  const acks = tempDir('restart-acks');
  const memory = new MemoryMonitor();
  let generation = 0;

  const startFleet = async (): Promise<Fleet> => {
    generation++;
    const [worker, web, producer] = await Promise.all([
      startWorker(ns, { name: `worker-${generation}`, recordDir: records, concurrency: 20, leaseMs: LEASE_MS }, memory),
      startWeb(ns, `web-${generation}`, memory),
      startProducer(
        ns,
        {
          name: `producer-${generation}`,
          ackDir: acks,
          mode: 'stream',
          count: 1e9,
          task: 'work',
          taskMs: '5',
          loops: 4,
          pauseMs: 5,
        },
        memory,
      ),
    ]);
    return { procs: [worker.proc, web.proc, producer], web: web.base };
  };

  let fleet = await startFleet();
  const tail = new LineTail(acks, '.ack');
  const known: string[] = [];
  const poller = new StatusPoller(
    () => fleet.web,
    () => {
      known.push(...tail.poll().map((e) => e.id));
      return known[Math.floor(Math.random() * known.length)];
    },
    2,
    10,
  );
  onCleanup(() => poller.stop());

  await sleep(RUN_BEFORE_CRASH_MS);
  const crashedAt = Date.now();
  if (server) {
    await server.crash();
  } else {
    // Nothing to kill but the processes: all of them at once, mid-write.
    for (const proc of fleet.procs) proc.signal('SIGKILL');
    await Promise.all(fleet.procs.map((proc) => proc.exited));
  }
  const integrityAfterCrash = await ns.integrity();
  const ackedBeforeCrash = readLines(acks, '.ack');
  await sleep(DOWN_MS);
  const restartAt = Date.now();
  if (server) await server.restart();
  else fleet = await startFleet();
  const backAt = Date.now();

  // Each part must come back by itself: new acks, new handler runs, status answers.
  const firstAfter = (dir: string, ext: '.rec' | '.ack'): number | undefined => {
    const times = readLines(dir, ext)
      .map((e) => e.at)
      .filter((at) => at >= backAt);
    return times.length > 0 ? Math.min(...times) : undefined;
  };
  const producerBackAt = await until('an acknowledged enqueue after the restart', () => firstAfter(acks, '.ack'), 30_000, 50);
  const workerBackAt = await until('a task run after the restart', () => firstAfter(records, '.rec'), 30_000, 50);
  const webBackAt = await until('a status 200 after the restart', () => poller.firstOkAfter(backAt), 30_000, 50);
  await sleep(RUN_AFTER_RECOVERY_MS);

  const producer = fleet.procs[2]!;
  producer.signal('SIGTERM');
  const doneLine = await producer.waitForLine(/^done acked=/, 15_000);
  await poller.stop();

  const app = createApp({ broker: ns.url, logger: false });
  onCleanup(() => app.close());
  const acked = readLines(acks, '.ack');
  const ids = acked.map((a) => a.id);
  const { states, pending } = await settle(app, ids, 60_000);
  const counts = stateCounts(states);
  const lostIds = ids.filter((id) => states.get(id) === null);
  const ackedAt = new Map(acked.map((a) => [a.id, a.at]));
  const lostAckAgeMs = lostIds.map((id) => crashedAt - ackedAt.get(id)!);
  const { duplicates } = countRuns(readLines(records, '.rec'));
  const integrityAtEnd = await ns.integrity();
  const peakRssMb = memory.stop();

  const figures = {
    durability: server?.describe ?? 'SQLite WAL, synchronous=NORMAL (every process SIGKILLed)',
    crashed: server ? 'redis-server (kill -9)' : 'producer, worker and web processes (SIGKILL)',
    tasks: ids.length,
    ackedBeforeCrash: ackedBeforeCrash.length,
    producer: doneLine.replace(/^done /, ''),
    states: counts,
    lost: lostIds.length,
    lostAckedWithinMsOfCrash: lostAckAgeMs.length > 0 ? Math.max(...lostAckAgeMs) : 0,
    notSuccess: ids.length - (counts.SUCCESS ?? 0),
    duplicates,
    downMs: backAt - crashedAt,
    recoveryMs: {
      producer: producerBackAt - backAt,
      worker: workerBackAt - backAt,
      web: webBackAt - backAt,
      restartTook: backAt - restartAt,
    },
    status: {
      beforeCrash: poller.counts(0, crashedAt),
      whileDown: poller.counts(crashedAt, backAt),
      afterRestart: poller.counts(backAt),
    },
    integrity: { afterCrash: integrityAfterCrash, atEnd: integrityAtEnd },
    totalMs: Date.now() - started,
    peakRssMb,
  };
  reportFigures(`broker-restart${serverOptions?.appendfsync ? `-${serverOptions.appendfsync}` : ''}`, broker.name, figures);

  expect(pending).toEqual([]);
  expect(ackedBeforeCrash.length).toBeGreaterThan(100);
  if (!server || serverOptions?.appendfsync === 'always') {
    // Nothing acknowledged may be lost: SQLite commits are in the WAL before delay() resolves,
    // Redis with appendfsync always fsyncs the AOF before it replies.
    expect(lostIds).toEqual([]);
  } else {
    // everysec: what a crash may lose is the last second (two when an fsync stalls) of writes.
    for (const age of lostAckAgeMs) expect(age).toBeLessThanOrEqual(2000);
  }
  // Whatever survived is run to SUCCESS (at least once: a run cut by the crash runs again).
  expect(counts.SUCCESS).toBe(ids.length - lostIds.length);
  expect(integrityAfterCrash).toMatch(/^ok/);
  expect(integrityAtEnd).toMatch(/^ok/);
  // 2xx again within seconds, without restarting anything (Redis) / after the restart (SQLite).
  for (const ms of Object.values(figures.recoveryMs)) expect(ms).toBeLessThan(15_000);
  for (const [name, mb] of Object.entries(peakRssMb)) expect(mb, name).toBeLessThan(500);
}

describeChaos(
  'broker-restart',
  (broker) => {
    if (broker.hasServer) {
      it('kill -9 of the broker server with appendfsync always: nothing acknowledged is lost; everyone reconnects', () =>
        scenario(broker, { appendfsync: 'always' }));
      it('kill -9 of the broker server with appendfsync everysec: losses (if any) are the last second of writes', () =>
        scenario(broker, { appendfsync: 'everysec' }));
    } else {
      it('SIGKILL of every process mid-run, then a restart: nothing acknowledged is lost; integrity_check ok', () =>
        scenario(broker));
    }
  },
  { needsServer: true },
);
