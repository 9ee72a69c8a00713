/**
 * `npm run bench:flow`: flow control and workflows (issue 11), errand side
 * by side with BullMQ where BullMQ has the feature. See docs/benchmarks-flow.md.
 * Progress goes to stderr; the report (markdown) to stdout.
 *
 *   --quick                     fewer tasks, one round
 *   --rounds=3                  interleaved rounds (default 3, quick 1)
 *   --only=priorities,rate-limit,chord,keys,fairness
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { runChord } from './chord.js';
import type { Settings } from './common.js';
import { finalCleanup, postgresVersion, REDIS_DB, redisVersion } from './env.js';
import { runFairness } from './fairness.js';
import { runKeyConcurrency } from './key-concurrency.js';
import { runPriorities } from './priorities.js';
import { runRateLimit } from './rate-limit.js';

const WORKLOADS = {
  priorities: runPriorities,
  'rate-limit': runRateLimit,
  chord: runChord,
  keys: runKeyConcurrency,
  fairness: runFairness,
} as const;
type Workload = keyof typeof WORKLOADS;

function parseArgs(argv: string[]): { quick: boolean; rounds: number; only: Workload[] } {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m || !['quick', 'rounds', 'only'].includes(m[1]!))
      throw new Error(`unknown argument ${arg} (known: --quick --rounds=N --only=…)`);
    flags.set(m[1]!, m[2] ?? 'true');
  }
  const quick = flags.has('quick');
  const rounds = Number(flags.get('rounds') ?? (quick ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds needs a whole number >= 1');
  const names = Object.keys(WORKLOADS) as Workload[];
  const only = (flags.get('only')?.split(',').filter(Boolean) ?? names) as Workload[];
  for (const name of only) if (!names.includes(name)) throw new Error(`--only: unknown ${name} (known: ${names.join(', ')})`);
  return { quick, rounds, only: names.filter((n) => only.includes(n)) };
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

const version = (file: string): string =>
  (JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as { version: string }).version;

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const log = (line: string): void => {
    process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  };
  const settings: Settings = { quick: cli.quick, rounds: cli.rounds, log, failures: [] };
  const loadBefore = sh('uptime', []);
  const head = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--', 'src']);
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '?';
  const redis = await redisVersion();
  const postgres = await postgresVersion();
  const sections: string[] = [];
  try {
    for (const name of cli.only) sections.push(await WORKLOADS[name](settings));
  } finally {
    const left = await finalCleanup();
    if (left > 0) log(`final cleanup removed ${left} keys left by failed trials`);
  }
  const args = process.argv.slice(2);
  const meta = [
    `- Date: ${new Date().toISOString()}; duration ${((performance.now() - started) / 1000).toFixed(0)} s`,
    `- Command: \`npm run bench:flow${args.length > 0 ? ` -- ${args.join(' ')}` : ''}\` (${cli.rounds} interleaved round(s))`,
    `- Versions: errand ${version('../../package.json')} (git ${head}${dirty && dirty !== '?' ? ` + uncommitted changes in src/ (${dirty.split('\n').length} files)` : ''}), BullMQ ${version('../../node_modules/bullmq/package.json')}, Node ${process.version}, Redis ${redis} (db ${REDIS_DB}), PostgreSQL ${postgres}`,
    `- Machine: ${availableParallelism()} CPUs (\`nproc\`), ${cpu}; shared with other work, so compare within a table, not across runs`,
    `- Load (\`uptime\`) before: ${loadBefore}; after: ${sh('uptime', [])}`,
  ];
  const failures =
    settings.failures.length === 0
      ? ['No trial failed.']
      : ['Failed trials (left out of the medians):', '', ...settings.failures.map((f) => `- ${f}`)];
  console.log([...meta, '', ...sections.flatMap((s) => [s, '']), ...failures].join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
