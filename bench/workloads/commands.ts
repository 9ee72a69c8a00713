import { stat } from 'node:fs/promises';
import { SQLITE_FILE } from '../config.js';
import { resetSystem, waitFor, type BenchContext } from '../context.js';
import { statsDelta, type CommandCounts } from '../redis-admin.js';
import { flushCount } from '../socket-count.js';
import type { BenchSystem } from '../systems/types.js';

export interface WindowCounts {
  /** Sum of INFO commandstats calls (server-wide; minus the harness's own INFO). */
  commandstats: number;
  commandstatsByCommand: Record<string, number>;
  /** MONITOR, restricted to the bench db and the systems' connections. */
  monitor: { total: number; fromClients: number; inScripts: number; byCommand: Record<string, number> };
  /** Socket flushes to Redis by the systems' clients (≈ round trips started). */
  flushes: number;
  /** Redis server CPU time (user + sys) over the window, ms (server-wide). */
  redisCpuMs: number;
}

export interface CommandsSample {
  system: string;
  tasks: number;
  enqueue?: WindowCounts;
  process?: WindowCounts;
  /** MEMORY USAGE over every key left in the bench db once all tasks finished (default retention). */
  memory?: {
    bytes: number;
    keys: number;
    usedMemoryDelta: number;
    byShape: Array<{ shape: string; keys: number; bytes: number }>;
  };
  /** errand-sqlite: database file + WAL size once all tasks finished. */
  fileBytes?: number;
  /**
   * True when INFO commandstats saw more calls than MONITOR did in the bench
   * db: another client used the server meanwhile, so the MONITOR figures are
   * the ones to trust.
   */
  commandstatsPolluted?: boolean;
}

/**
 * N tasks enqueued with the bulk path while no worker runs, then processed
 * by one worker process at concurrency 50 (the busy path); Redis commands
 * counted for each window, then the bytes left behind.
 */
export async function runCommands(ctx: BenchContext, system: BenchSystem): Promise<CommandsSample> {
  const tasks = ctx.settings.commandTasks;
  await resetSystem(ctx, system);
  const [child] = await ctx.pool.take(system.name, 1);
  await child!.prepare(system.name, 50, 'noop');
  const producer = await system.openProducer({ watchResults: false });
  const sample: CommandsSample = { system: system.name, tasks };

  if (!system.usesRedis) {
    await producer.enqueueBulk(tasks);
    await producer.close();
    await runWorker(child!, system, tasks);
    await child!.stop();
    let fileBytes = 0;
    for (const suffix of ['', '-wal']) fileBytes += (await stat(SQLITE_FILE + suffix).catch(() => ({ size: 0 }))).size;
    sample.fileBytes = fileBytes;
    return sample;
  }

  const admin = ctx.admin;
  const monitor = await admin.monitor();
  try {
    const memoryBefore = await admin.usedMemory();
    await monitor.take();
    let stats = await admin.commandStats();
    let cpu = await admin.cpuMs();
    const flushes = flushCount();

    await producer.enqueueBulk(tasks);
    let cpuAfter = await admin.cpuMs();
    let statsAfter = await admin.commandStats();
    sample.enqueue = windowCounts(stats, statsAfter, await monitor.take(), flushCount() - flushes, cpuAfter - cpu);
    await producer.close();

    await monitor.take();
    stats = await admin.commandStats();
    cpu = await admin.cpuMs();
    await runWorker(child!, system, tasks);
    cpuAfter = await admin.cpuMs();
    statsAfter = await admin.commandStats();
    const processMonitor = await monitor.take();
    const stopped = await child!.stop();
    sample.process = windowCounts(stats, statsAfter, processMonitor, stopped.flushes, cpuAfter - cpu);
    sample.commandstatsPolluted =
      sample.enqueue.commandstats > sample.enqueue.monitor.total || sample.process.commandstats > sample.process.monitor.total;

    const usage = await admin.memoryUsage();
    sample.memory = {
      bytes: usage.bytes,
      keys: usage.keys,
      usedMemoryDelta: (await admin.usedMemory()) - memoryBefore,
      byShape: [...usage.byShape]
        .map(([shape, v]) => ({ shape, ...v }))
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 8),
    };
    return sample;
  } finally {
    await monitor.stop();
  }
}

async function runWorker(
  child: Awaited<ReturnType<BenchContext['pool']['get']>>,
  system: BenchSystem,
  tasks: number,
): Promise<void> {
  const finished = waitFor(
    () => child.done,
    tasks,
    (n) => (child.onProgress = n),
    30_000,
    `${system.name} commands`,
  );
  await child.go();
  await finished;
}

function windowCounts(
  before: Map<string, number>,
  after: Map<string, number>,
  monitor: CommandCounts,
  flushes: number,
  redisCpuMs: number,
): WindowCounts {
  const delta = statsDelta(before, after);
  // the harness's own INFO calls inside the window: commandstats (opening it), cpu twice
  const info = (delta.get('info') ?? 0) - 3;
  if (info > 0) delta.set('info', info);
  else delta.delete('info');
  return {
    commandstats: [...delta.values()].reduce((s, v) => s + v, 0),
    commandstatsByCommand: Object.fromEntries(delta),
    monitor: {
      total: monitor.total,
      fromClients: monitor.fromClients,
      inScripts: monitor.inScripts,
      byCommand: Object.fromEntries(monitor.byCommand),
    },
    flushes,
    redisCpuMs,
  };
}
