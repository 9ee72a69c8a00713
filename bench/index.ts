/**
 * `npm run bench`: errand (Redis, SQLite) against BullMQ and bee-queue on
 * the same Redis and machine. See docs/benchmarks.md for what is measured.
 *
 *   --quick                       fewer tasks, one run (no docs unless --docs)
 *   --only=throughput,latency,commands,bulk
 *   --systems=errand-redis,bullmq,bee-queue,errand-sqlite
 *   --runs=3 --tasks=20000 --latency-tasks=1000 --command-tasks=5000
 *   --bulk-tasks=20000 --bulk-batch=1000 --bulk-rounds=3   (bulk: interleaved rounds, run once)
 *   --docs / --no-docs            write docs/benchmarks.md (default: only for a full run)
 *   --json=path                   also write the raw results
 *   --profile                     CPU-profile errand instead (see profile.ts)
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ChildPool } from './children.js';
import { clock } from './clock.js';
import { REDIS_DB } from './config.js';
import type { BenchContext, Settings } from './context.js';
import { RedisAdmin } from './redis-admin.js';
import { renderText, writeMarkdown } from './report.js';
import type { BenchResults, SystemInfo } from './results.js';
import { installFlushCounter } from './socket-count.js';
import { loadSystem, SYSTEM_NAMES, type BenchSystem, type SystemName } from './systems/index.js';
import { runBulk } from './workloads/bulk.js';
import { runCommands } from './workloads/commands.js';
import { runLatency } from './workloads/latency.js';
import { PHASES, runThroughput, type ThroughputPhase } from './workloads/throughput.js';

const WORKLOADS = ['throughput', 'latency', 'commands', 'bulk'] as const;
type Workload = (typeof WORKLOADS)[number];

interface Cli {
  settings: Settings;
  workloads: Workload[];
  systems: SystemName[];
  docs: boolean;
  json?: string;
  profile: boolean;
  force: boolean;
}

function parseArgs(argv: string[]): Cli {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    flags.set(m[1]!, m[2] ?? 'true');
  }
  const known = [
    'quick',
    'only',
    'systems',
    'runs',
    'tasks',
    'latency-tasks',
    'command-tasks',
    'bulk-tasks',
    'bulk-batch',
    'bulk-rounds',
    'docs',
    'no-docs',
    'json',
    'profile',
    'force',
  ];
  for (const key of flags.keys()) if (!known.includes(key)) throw new Error(`unknown flag --${key} (known: ${known.join(', ')})`);
  const quick = flags.has('quick');
  const num = (key: string, fallback: number): number => {
    const v = flags.get(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${key} needs a whole number >= 1`);
    return n;
  };
  const list = <T extends string>(key: string, all: readonly T[]): T[] => {
    const v = flags.get(key);
    if (v === undefined) return [...all];
    const items = v.split(',').filter(Boolean);
    for (const item of items)
      if (!all.includes(item as T)) throw new Error(`--${key}: unknown ${item} (known: ${all.join(', ')})`);
    return all.filter((a) => items.includes(a));
  };
  const settings: Settings = {
    runs: num('runs', quick ? 1 : 3),
    tasks: num('tasks', quick ? 4000 : 20_000),
    latencyTasks: num('latency-tasks', quick ? 300 : 1000),
    latencyGapMs: 5,
    commandTasks: num('command-tasks', quick ? 1000 : 5000),
    bulkTasks: num('bulk-tasks', quick ? 10_000 : 20_000),
    bulkBatch: num('bulk-batch', 1000),
    bulkRounds: num('bulk-rounds', 3),
  };
  const workloads = list('only', WORKLOADS);
  const systems = list('systems', SYSTEM_NAMES);
  const full = !quick && !flags.has('only') && !flags.has('systems') && !flags.has('runs') && !flags.has('tasks');
  return {
    settings,
    workloads,
    systems,
    docs: flags.has('docs') || (full && !flags.has('no-docs')),
    json: flags.get('json'),
    profile: flags.has('profile'),
    force: flags.has('force'),
  };
}

/** The commit errand was measured at, noting uncommitted changes in src/. */
function gitState(): string {
  const head = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--', 'src']);
  return dirty && dirty !== '?' ? `${head} + uncommitted changes in src/ (${dirty.split('\n').length} files)` : head;
}

/** How this run was started, for the report (output-only flags left out). */
function commandLine(): string {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--json') && a !== '--docs' && a !== '--no-docs');
  return `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

function cpuModel(): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m?.[1]?.trim() ?? '?';
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Loads a system and checks that a producer can connect and store a task. */
async function probe(ctx: BenchContext, name: SystemName): Promise<{ system?: BenchSystem; info: SystemInfo }> {
  try {
    const system = await loadSystem(name);
    const info: SystemInfo = { name, version: system.version(), bulkMethod: system.bulkMethod, available: false };
    if (system.usesRedis) await ctx.admin.flush();
    await system.resetStorage();
    const producer = await withTimeout(system.openProducer({ watchResults: false }), 10_000, `${name} connect`);
    try {
      await withTimeout(producer.enqueueBulk(2), 10_000, `${name} enqueue`);
      info.altBulkMethod = producer.altBulk?.method;
    } finally {
      await producer.close();
    }
    info.available = true;
    return { system, info };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { info: { name, version: '?', bulkMethod: '?', available: false, error: message } };
  }
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  if (cli.profile) {
    const { runProfile } = await import('./profile.js');
    const profiles = await runProfile(cli.settings, cli.systems);
    if (cli.json) writeFileSync(cli.json, JSON.stringify(profiles, null, 2));
    return;
  }
  installFlushCounter();
  const started = clock();
  const log = (line: string): void => console.log(`[${((clock() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  const admin = await RedisAdmin.open();
  const pool = new ChildPool();
  const ctx: BenchContext = { settings: cli.settings, admin, pool, log };
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      redis: await admin.version(),
      git: gitState(),
      nproc: availableParallelism(),
      cpu: cpuModel(),
      loadBefore: sh('uptime', []),
      command: commandLine(),
    },
    settings: cli.settings,
    workloads: cli.workloads,
    systems: [],
    throughput: [],
    latency: [],
    commands: [],
    bulk: [],
    errors: [],
    profiles: [],
  };
  const systems: BenchSystem[] = [];
  try {
    const foreign = await admin.foreignKeys();
    if (foreign.length > 0 && !cli.force) {
      throw new Error(
        `Redis db ${REDIS_DB} holds keys the bench did not write (${foreign.join(', ')}); it flushes that db. Pick another with BENCH_REDIS_DB, or pass --force.`,
      );
    }
    log(`load: ${results.meta.loadBefore}`);
    log(`settings: ${JSON.stringify(cli.settings)}; workloads: ${cli.workloads.join(', ')}; redis db ${REDIS_DB}`);

    for (const name of cli.systems) {
      const { system, info } = await probe(ctx, name);
      results.systems.push(info);
      if (system) systems.push(system);
      log(`${name} ${info.available ? `v${info.version}: ready` : `NOT AVAILABLE: ${info.error?.split('\n')[0]}`}`);
    }

    const attempt = async (what: string, system: BenchSystem, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (error) {
        const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
        results.errors.push(message);
        log(`ERROR ${message.split('\n').slice(0, 3).join(' | ')}`);
        // start the next phase with fresh worker processes
        await pool.discard(system.name, 0);
        await pool.discard(system.name, 1);
      }
    };

    for (let run = 1; run <= cli.settings.runs; run++) {
      if (cli.workloads.includes('throughput')) {
        for (const phase of Object.keys(PHASES) as ThroughputPhase[]) {
          for (const system of systems) {
            await attempt(`run ${run} ${system.name} throughput ${phase}`, system, async () => {
              const s = await runThroughput(ctx, system, phase, run, { measureAltBulk: phase === 'c50' });
              results.throughput.push(s);
              log(
                `run ${run} ${system.name.padEnd(13)} ${phase.padEnd(3)} enqueue ${Math.round(s.enqueuePerSec)}/s` +
                  (s.altEnqueuePerSec ? ` (alt ${Math.round(s.altEnqueuePerSec)}/s)` : '') +
                  `, processing ${Math.round(s.processPerSec)}/s (${s.completed} done in ${Math.round(s.processMs)} ms, ${s.flushesPerTask.toFixed(2)} socket flushes/task)`,
              );
            });
          }
        }
      }
      if (cli.workloads.includes('latency')) {
        for (const system of systems) {
          await attempt(`run ${run} ${system.name} latency`, system, async () => {
            const s = await runLatency(ctx, system, run);
            results.latency.push(s);
            log(
              `run ${run} ${system.name.padEnd(13)} latency start p50/p99 ${s.toStart.p50.toFixed(2)}/${s.toStart.p99.toFixed(2)} ms, ` +
                `result p50/p99 ${s.toResult.p50.toFixed(2)}/${s.toResult.p99.toFixed(2)} ms`,
            );
          });
        }
      }
      if (run === 1 && cli.workloads.includes('bulk') && systems.length > 0) {
        try {
          results.bulk!.push(...(await runBulk(ctx, systems)));
        } catch (error) {
          const message = `bulk: ${error instanceof Error ? error.message : String(error)}`;
          results.errors.push(message);
          log(`ERROR ${message.split('\n')[0]}`);
        }
      }
      if (run === 1 && cli.workloads.includes('commands')) {
        for (const system of systems) {
          await attempt(`${system.name} commands`, system, async () => {
            const s = await runCommands(ctx, system);
            results.commands.push(s);
            if (s.enqueue && s.process) {
              const calls = (s.enqueue.monitor.total + s.process.monitor.total) / s.tasks;
              const stats = (s.enqueue.commandstats + s.process.commandstats) / s.tasks;
              log(
                `${system.name.padEnd(13)} commands/task ${calls.toFixed(2)} (commandstats ${stats.toFixed(2)}), bytes/task ${Math.round(s.memory!.bytes / s.tasks)}`,
              );
            } else log(`${system.name.padEnd(13)} storage/task ${Math.round((s.fileBytes ?? 0) / s.tasks)} bytes`);
          });
        }
      }
    }
  } finally {
    await pool.closeAll();
    for (const system of systems) await system.resetStorage().catch(() => {});
    await admin.flush().catch(() => {});
    await admin.close();
  }
  results.meta.loadAfter = sh('uptime', []);
  results.meta.durationS = (clock() - started) / 1000;
  console.log(renderText(results));
  log(`load: ${results.meta.loadAfter}`);
  if (cli.json) writeFileSync(cli.json, JSON.stringify(results, null, 2));
  if (cli.docs) {
    const path = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
    writeMarkdown(path, results);
    log(`wrote ${path}`);
  }
}

main().then(
  () => {
    // Everything is closed; if a handle still lingers, say so rather than hang.
    setTimeout(() => {
      console.error('bench: something kept the process alive; exiting');
      process.exit(1);
    }, 10_000).unref();
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 10_000).unref();
  },
);
