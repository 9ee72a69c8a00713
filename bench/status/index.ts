/**
 * The status/web benchmarks of issue 3 (see docs/benchmarks-status.md):
 *   1. task finished → client informed over WebSocket, SSE and 1 s polling (Redis, SQLite)
 *   2. POST /form/ under load while 5 s tasks pile up, against an inline-await handler
 *   3. 10,000 concurrent WebSocket subscribers on one web process
 *
 *   npx tsx bench/status/index.ts [--quick] [--only=latency,form,fanout] [--docs|--no-docs] [--json=path]
 *                                 [--profile=form|fanout|fanout-clients]   (node --cpu-prof the web or client processes; see the doc)
 *                                 [--fanout=1x10000,100x100]   (the fan-out scenarios: tasks x sockets per task)
 *                                 [--brokers=redis,sqlite] [--transports=ws,sse,poll]   (what the latency workload measures)
 *
 * Everything runs on 127.0.0.1; every child process is stopped at the end.
 * bench/index.ts calls runStatusBenchmarks({ quick }) and gets markdown back.
 */
import { rm, mkdir } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { packageVersion } from '../systems/versions.js';
import { runFanout, type FanoutScenario } from './fanout.js';
import { runFormLoad } from './form-load.js';
import { runLatency } from './latency.js';
import { TRANSPORTS, type Transport } from './clients.js';
import { BROKERS, HOST, KEY_PREFIX, REDIS_DB, REDIS_PORT, SQLITE_DIR, type BrokerKind } from './env.js';
import { load, machine, renderMarkdown, writeDocs, type StatusResults } from './report.js';
import { stopAllChildren } from './servers.js';

export const WORKLOADS = ['latency', 'form', 'fanout'] as const;
export type StatusWorkload = (typeof WORKLOADS)[number];

export interface StatusBenchOptions {
  quick: boolean;
  only?: readonly StatusWorkload[];
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** CPU-profile the web process of this workload, or the fan-out's client processes (node --cpu-prof into `profileDir`). */
  profile?: Profile;
  profileDir?: string;
  /** Filled with the raw results. */
  results?: StatusResults;
  /** The fan-out scenarios (default: 1 × 10,000 and 100 × 100; 1 × 2,000 and 20 × 100 with `quick`). */
  fanoutScenarios?: FanoutScenario[];
  /** The command line recorded with the results (default: the full run's). */
  command?: string;
  /** The latency workload's brokers and transports (default: all). */
  latencyBrokers?: readonly BrokerKind[];
  latencyTransports?: readonly Transport[];
}

export const PROFILES = ['form', 'fanout', 'fanout-clients'] as const;
export type Profile = (typeof PROFILES)[number];

/** Runs the status/web benchmarks and returns their markdown section. */
export async function runStatusBenchmarks(options: StatusBenchOptions): Promise<string> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[status-bench] ${line}\n`));
  const only = options.only ?? WORKLOADS;
  const started = Date.now();
  const profileFlags = (workload: string): string[] =>
    options.profile === workload ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir ?? join(SQLITE_DIR, 'profiles')}`] : [];
  const results: StatusResults = options.results ?? ({} as StatusResults);
  results.env = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    ...machine(),
    redis: await redisVersion(),
    errand: ownVersion(),
    fastify: packageVersion('fastify'),
    ws: packageVersion('ws'),
    loadBefore: load(),
    command: options.command ?? `npx tsx bench/status/index.ts${options.quick ? ' --quick' : ''}`,
  };
  log(`load average ${results.env.loadBefore.join(' ')} on ${results.env.nproc} cores`);
  await mkdir(SQLITE_DIR, { recursive: true });
  try {
    if (only.includes('latency')) {
      results.latency = await runLatency({
        quick: options.quick,
        log,
        brokers: options.latencyBrokers,
        transports: options.latencyTransports,
      });
    }
    if (only.includes('form')) {
      results.form = await runFormLoad({
        quick: options.quick,
        log,
        brokers: options.quick ? ['redis'] : BROKERS,
        webNodeFlags: profileFlags('form'),
      });
    }
    if (only.includes('fanout'))
      results.fanout = await runFanout({
        quick: options.quick,
        log,
        webNodeFlags: profileFlags('fanout'),
        clientNodeFlags: profileFlags('fanout-clients'),
        scenarios: options.fanoutScenarios,
      });
  } finally {
    await stopAllChildren();
    await cleanUp(log);
  }
  results.env.loadAfter = load();
  results.env.durationS = (Date.now() - started) / 1000;
  return renderMarkdown(results);
}

function ownVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function redisVersion(): Promise<string> {
  const redis = new Redis({ host: HOST, port: REDIS_PORT, db: REDIS_DB, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  } finally {
    redis.disconnect();
  }
}

/** Deletes every Redis key of this run (prefix KEY_PREFIX) and the SQLite files. */
async function cleanUp(log: (line: string) => void): Promise<void> {
  const redis = new Redis({ host: HOST, port: REDIS_PORT, db: REDIS_DB, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${KEY_PREFIX}-*`, 'COUNT', 2000);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    log(`deleted ${deleted} Redis keys of this run (db ${REDIS_DB}, prefix ${KEY_PREFIX})`);
  } catch (error) {
    log(`could not delete this run's Redis keys: ${String(error)}`);
  } finally {
    redis.disconnect();
  }
  await rm(SQLITE_DIR, { recursive: true, force: true });
}

// ---- run directly ----

interface Cli {
  quick: boolean;
  only: StatusWorkload[];
  docs: boolean;
  json?: string;
  profile?: Profile;
  fanout?: FanoutScenario[];
  brokers?: BrokerKind[];
  transports?: Transport[];
}

function parseArgs(argv: string[]): Cli {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    flags.set(m[1]!, m[2] ?? 'true');
  }
  const known = ['quick', 'only', 'docs', 'no-docs', 'json', 'profile', 'fanout', 'brokers', 'transports'];
  for (const key of flags.keys()) if (!known.includes(key)) throw new Error(`unknown flag --${key} (known: ${known.join(', ')})`);
  const only = (flags.get('only')?.split(',').filter(Boolean) ?? [...WORKLOADS]) as StatusWorkload[];
  for (const w of only) if (!WORKLOADS.includes(w)) throw new Error(`--only: unknown ${w} (known: ${WORKLOADS.join(', ')})`);
  const profile = flags.get('profile');
  if (profile !== undefined && !(PROFILES as readonly string[]).includes(profile))
    throw new Error(`--profile: one of ${PROFILES.join(', ')}`);
  const fanout = flags.get('fanout')?.split(',').filter(Boolean).map(parseScenario);
  const brokers = listFlag(flags.get('brokers'), BROKERS, '--brokers');
  const transports = listFlag(flags.get('transports'), TRANSPORTS, '--transports');
  const quick = flags.has('quick');
  const narrowed = fanout !== undefined || brokers !== undefined || transports !== undefined;
  const full = !quick && !flags.has('only') && profile === undefined && !narrowed;
  return {
    quick,
    only: WORKLOADS.filter((w) => only.includes(w)),
    docs: flags.has('docs') || (full && !flags.has('no-docs')),
    json: flags.get('json'),
    profile: profile as Profile | undefined,
    fanout,
    brokers,
    transports,
  };
}

function listFlag<T extends string>(value: string | undefined, known: readonly T[], flag: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').filter(Boolean) as T[];
  for (const item of items) if (!known.includes(item)) throw new Error(`${flag}: unknown ${item} (known: ${known.join(', ')})`);
  return items;
}

/** `1x10000` → 1 task watched by 10,000 sockets. */
function parseScenario(text: string): FanoutScenario {
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) throw new Error(`--fanout: ${text} is not TASKSxSOCKETS (e.g. 1x10000)`);
  return { tasks: Number(m[1]), socketsPerTask: Number(m[2]) };
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const profileDir = join(tmpdir(), 'errand-bench-status-profiles');
  // A hard stop, whatever hangs: children killed, non-zero exit.
  const watchdog = setTimeout(
    () => {
      process.stderr.write('[status-bench] watchdog: over the time limit, stopping\n');
      void stopAllChildren(0).finally(() => process.exit(2));
    },
    (cli.quick ? 100 : 420) * 1000,
  );
  watchdog.unref();
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      void stopAllChildren(0).finally(() => process.exit(130));
    });
  }
  const results = {} as StatusResults;
  const markdown = await runStatusBenchmarks({
    quick: cli.quick,
    only: cli.only,
    profile: cli.profile,
    profileDir,
    results,
    fanoutScenarios: cli.fanout,
    latencyBrokers: cli.brokers,
    latencyTransports: cli.transports,
    command: ['npx tsx bench/status/index.ts', ...process.argv.slice(2)].join(' '),
  });
  clearTimeout(watchdog);
  if (cli.json) writeFileSync(cli.json, JSON.stringify(results, null, 2));
  process.stdout.write(`\n${markdown}`);
  if (cli.profile)
    process.stdout.write(`\nCPU profiles (${cli.profile}): ${profileDir} (open in Chrome DevTools → Performance)\n`);
  if (cli.docs) {
    const path = join(root, 'docs', 'benchmarks-status.md');
    writeDocs(path, markdown);
    process.stdout.write(`\nwrote ${path}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    async (error: unknown) => {
      process.stderr.write(`[status-bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      await stopAllChildren(0);
      process.exit(1);
    },
  );
}
