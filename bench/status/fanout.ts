/**
 * Workload 3: many concurrent WebSocket status subscribers on one web process
 * (the bench's Fastify + errandWeb server, Redis broker): memory per
 * connection, and the time from a task's finish to the last socket receiving
 * its terminal state. Clients live in two child processes (half the sockets
 * each), so the bench's own event loop is not the bottleneck.
 *
 * Each scenario enqueues gated tasks, waits until the worker runs them,
 * connects every socket (each gets the current state: subscribed), reads the
 * web process's memory after a full GC before and after, then releases the
 * tasks and collects when each socket received SUCCESS.
 */
import { createApp } from '../../src/create-app.js';
import { clock, sleep } from '../clock.js';
import { percentile } from '../stats.js';
import { brokerUrl } from './env.js';
import { BenchChild, startBenchWeb, startBenchWorker } from './servers.js';
import { defineBenchTasks } from './tasks.js';

export interface FanoutScenario {
  tasks: number;
  socketsPerTask: number;
}

export interface FanoutRow {
  scenario: string;
  sockets: number;
  connected: number;
  failed: number;
  /** Connections per second while all were opened (both client processes together). */
  connectRate: number;
  rssPerConnKb: number;
  heapPerConnKb: number;
  rssAfterMb: number;
  /** Task finish → terminal message at a socket, over every socket (ms). */
  p50: number;
  p99: number;
  /** Task finish → the LAST socket of its task got it; the worst task (ms). */
  lastMs: number;
  /** Task finish → the first socket got it (ms), the best task. */
  firstMs: number;
  missing: number;
  /** Event-loop delay of the web process during the fan-out (ms). */
  loopDelayMaxMs: number;
}

export interface FanoutOptions {
  quick: boolean;
  log: (line: string) => void;
  /** Extra node flags for the web process (e.g. --cpu-prof). */
  webNodeFlags?: string[];
  /** Extra node flags for the client processes (e.g. --cpu-prof). */
  clientNodeFlags?: string[];
  scenarios?: FanoutScenario[];
}

interface WebStats {
  rss: number;
  heapUsed: number;
  hubFeeds: number;
  connections: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const CLIENT_PROCESSES = 2;
const HANDSHAKES_IN_FLIGHT = 200;

export function defaultScenarios(quick: boolean): FanoutScenario[] {
  return quick
    ? [
        { tasks: 1, socketsPerTask: 2000 },
        { tasks: 20, socketsPerTask: 100 },
      ]
    : [
        { tasks: 1, socketsPerTask: 10_000 },
        { tasks: 100, socketsPerTask: 100 },
      ];
}

export async function runFanout(options: FanoutOptions): Promise<FanoutRow[]> {
  const url = brokerUrl('redis', 'fanout');
  const app = createApp({ broker: url, logger: false });
  const tasks = defineBenchTasks(app);
  const rows: FanoutRow[] = [];
  let children: BenchChild[] = [];
  try {
    const [web, worker, ...clients] = (children = await Promise.all([
      startBenchWeb(url, 'web-fanout', ['--expose-gc', ...(options.webNodeFlags ?? [])]),
      startBenchWorker(url, 'worker-fanout', 200),
      ...Array.from({ length: CLIENT_PROCESSES }, (_, i) =>
        BenchChild.start({
          label: `ws-clients-${i}`,
          script: 'bench/status/ws-clients-child.ts',
          nodeFlags: options.clientNodeFlags,
          readyPattern: /bench ws clients ready/,
        }),
      ),
    ]));
    const base = web!.ready;
    const workerOffset = await worker!.clockOffset();
    const clientOffsets = await Promise.all(clients.map((c) => c.clockOffset()));
    const stats = async (gc: boolean): Promise<WebStats> => {
      if (gc) await fetch(`${base}/bench/gc`, { method: 'POST' });
      return (await (await fetch(`${base}/bench/stats`)).json()) as WebStats;
    };

    for (const scenario of options.scenarios ?? defaultScenarios(options.quick)) {
      const name = `${scenario.tasks} task${scenario.tasks > 1 ? 's' : ''} × ${scenario.socketsPerTask.toLocaleString('en')} sockets`;
      const sockets = scenario.tasks * scenario.socketsPerTask;
      const results = await Promise.all(Array.from({ length: scenario.tasks }, () => tasks.gated.delay()));
      const ids = results.map((r) => r.id);
      // Let the worker claim them (STARTED), so that transition's fan-out is over before we measure.
      for (const r of results) {
        for (let i = 0; i < 100 && (await r.info())?.state !== 'STARTED'; i++) await sleep(50);
      }
      const before = await stats(true);

      // Socket k watches task k % tasks; client process c opens every CLIENT_PROCESSES-th socket.
      const perClient = clients.map((_, c) =>
        Array.from({ length: sockets }, (_, k) => ids[k % ids.length]!).filter((_, k) => k % clients.length === c),
      );
      const connectStarted = clock();
      const connected = await Promise.all(
        clients.map((client, c) => {
          const reply = client.waitMessage(
            (m) => ((m as { type?: string }).type === 'connected' ? (m as { ok: number; failed: number }) : undefined),
            180_000,
          );
          client.send({ type: 'connect', url: base, origin: base, taskIds: perClient[c], concurrency: HANDSHAKES_IN_FLIGHT });
          return reply;
        }),
      );
      const connectMs = clock() - connectStarted;
      const ok = connected.reduce((s, c) => s + c.ok, 0);
      const failed = connected.reduce((s, c) => s + c.failed, 0);
      await sleep(500);
      const after = await stats(true);
      const rssPerConnKb = (after.rss - before.rss) / ok / 1024;
      const heapPerConnKb = (after.heapUsed - before.heapUsed) / ok / 1024;
      options.log(
        `fanout/${name}: ${ok} connected (${failed} failed) in ${(connectMs / 1000).toFixed(1)} s; web RSS ${mb(before.rss)} → ${mb(after.rss)} MB,` +
          ` heapUsed ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB, ${after.connections} server connections, ${after.hubFeeds} hub feeds`,
      );

      // Collect first (the children note receipts as they come), then release the tasks.
      const collected = clients.map((client) => {
        const reply = client.waitMessage(
          (m) =>
            (m as { type?: string }).type === 'collected'
              ? (m as { receipts: Record<string, number[]>; missing: number })
              : undefined,
          60_000,
        );
        client.send({ type: 'collect', timeoutMs: 30_000 });
        return reply;
      });
      worker!.send({ type: 'release', ids });
      const finishedAt = new Map<string, number>();
      await Promise.all(results.map(async (r) => finishedAt.set(r.id, Number(await r.get({ timeout: 30_000 })) - workerOffset)));
      const receipts = await Promise.all(collected);
      const during = await stats(false);

      const latencies: number[] = [];
      let lastMs = 0;
      let firstMs = Infinity;
      receipts.forEach((r, c) => {
        for (const [id, times] of Object.entries(r.receipts)) {
          const finish = finishedAt.get(id)!;
          const ls = times.map((t) => t - clientOffsets[c]! - finish);
          latencies.push(...ls);
          lastMs = Math.max(lastMs, ...ls);
          firstMs = Math.min(firstMs, ...ls);
        }
      });
      latencies.sort((a, b) => a - b);
      const row: FanoutRow = {
        scenario: name,
        sockets,
        connected: ok,
        failed,
        connectRate: ok / (connectMs / 1000),
        rssPerConnKb,
        heapPerConnKb,
        rssAfterMb: after.rss / 1024 / 1024,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        lastMs,
        firstMs,
        missing: receipts.reduce((s, r) => s + r.missing, 0),
        loopDelayMaxMs: during.loopDelayMaxMs,
      };
      rows.push(row);
      options.log(
        `fanout/${name}: finish → socket p50=${row.p50.toFixed(1)} p99=${row.p99.toFixed(1)} first=${row.firstMs.toFixed(1)} last=${row.lastMs.toFixed(1)} ms,` +
          ` missing=${row.missing}, web loop delay max ${row.loopDelayMaxMs.toFixed(1)} ms`,
      );

      // The server closes each socket after the terminal message; drop the rest and let the server settle.
      await Promise.all(
        clients.map((client) => {
          const reply = client.waitMessage((m) => ((m as { type?: string }).type === 'closed' ? true : undefined), 30_000);
          client.send({ type: 'close' });
          return reply;
        }),
      );
      for (let i = 0; i < 50 && (await stats(false)).connections > 2; i++) await sleep(200);
    }
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await app.close().catch(() => undefined);
  }
  return rows;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
