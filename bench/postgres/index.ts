/**
 * `npm run bench:postgres` (tsx bench/postgres/index.ts [--quick]): errand's
 * PostgreSQL broker against pg-boss and graphile-worker on the same
 * PostgreSQL, interleaved runs, medians. See docs/benchmarks-postgres.md.
 *
 *   --quick         1,000 tasks, one run, shorter phases (docs only with --docs)
 *   --runs=3 --tasks=5000 --docs / --no-docs
 *   --only=c1,latency  just these phases (c1, c50, 2x50, latency, tx; never writes the docs)
 *   --systems=errand,graphile-worker  just these systems (never writes the docs)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { clock, sleep, sleepUntil } from '../clock.js';
import { median, ratio, summarize } from '../stats.js';
import { countDone, dropSchema, openProducer, PG_URL, schemaOf, SYSTEMS, version, type PgSystem } from './systems.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const flags = new Map(process.argv.slice(2).map((a) => [a.replace(/^--/, '').split('=')[0]!, a.split('=')[1] ?? 'true']));
for (const k of flags.keys())
  if (!['quick', 'runs', 'tasks', 'docs', 'no-docs', 'only', 'systems'].includes(k)) throw new Error(`unknown flag --${k}`);
const only = flags.has('only') ? new Set(flags.get('only')!.split(',')) : undefined;
const runs = (phase: string): boolean => only === undefined || only.has(phase);
const chosen = flags.has('systems') ? new Set(flags.get('systems')!.split(',')) : undefined;
const quick = flags.has('quick');
const S = {
  runs: Number(flags.get('runs') ?? (quick ? 1 : 3)),
  tasks: Number(flags.get('tasks') ?? (quick ? 1000 : 5000)),
  capMs: quick ? 6000 : 12_000, // a throughput phase stops here; the rate is then tasks done / time
  latencyTasks: quick ? 200 : 500,
  latencyGapMs: 5,
  latencyConcurrency: 200,
  txClients: 10,
  txMs: quick ? 2000 : 4000,
};
const writeDocs =
  only === undefined &&
  chosen === undefined &&
  (flags.has('docs') || (!quick && !flags.has('no-docs') && !flags.has('runs') && !flags.has('tasks')));
const PHASES = [
  { key: 'c1', label: '1 process × concurrency 1', procs: 1, conc: 1 },
  { key: 'c50', label: '1 process × concurrency 50', procs: 1, conc: 50 },
  { key: '2x50', label: '2 processes × concurrency 50', procs: 2, conc: 50 },
] as const;

// ------------------------------------------------------------ children
interface Msg {
  type: string;
  message?: string;
}
class Child {
  private readonly proc: ChildProcess;
  private waiters: Array<{ type: string; resolve: (m: Msg) => void; reject: (e: Error) => void }> = [];
  private out = '';
  constructor(readonly label: string) {
    this.proc = spawn(
      process.execPath,
      [...(process.env.BENCH_CHILD_FLAGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'bench/postgres/child.ts'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const keep = (d: Buffer): void => void (this.out = (this.out + d.toString()).slice(-8000));
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    this.proc.on('message', (m: Msg) => {
      if (m.type === 'progress') return;
      if (m.type === 'error') return this.waiters.splice(0).forEach((w) => w.reject(new Error(`${label}: ${m.message}`)));
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    });
    this.proc.on('exit', (code) =>
      this.waiters.splice(0).forEach((w) => w.reject(new Error(`${label} exited ${code}\n${this.out}`))),
    );
  }
  request<T = Msg>(message: object | null, type: string, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: no ${type} in ${timeoutMs} ms\n${this.out}`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (m) => (clearTimeout(timer), resolve(m as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      if (message) this.proc.send(message);
    });
  }
  async offset(): Promise<number> {
    let best = { off: 0, rtt: Infinity };
    for (let i = 0; i < 20; i++) {
      const t1 = clock();
      const { at } = await this.request<{ at: number }>({ type: 'ping' }, 'pong');
      const t2 = clock();
      if (t2 - t1 < best.rtt) best = { off: at - (t1 + t2) / 2, rtt: t2 - t1 };
    }
    return best.off;
  }
  async exit(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    try {
      this.proc.send({ type: 'exit' });
    } catch {
      /* closed */
    }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}
const children: Child[] = [];
async function getChildren(n: number): Promise<Child[]> {
  while (children.length < n) {
    const c = new Child(`worker#${children.length}`);
    children.push(c);
    await c.request(null, 'ready', 60_000);
  }
  return children.slice(0, n);
}

// ------------------------------------------------------------ workloads
let db: pg.Client;
const log = (() => {
  const t0 = clock();
  return (s: string): void => console.log(`[${((clock() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);
})();

interface Tp {
  rate: number;
  done: number;
  ms: number;
  capped: boolean;
}
async function throughput(s: PgSystem, procs: number, conc: number): Promise<Tp> {
  await dropSchema(s);
  const producer = await openProducer(s);
  await producer.enqueueBulk(S.tasks);
  await producer.close();
  const kids = await getChildren(procs);
  try {
    await Promise.all(kids.map((k) => k.request({ type: 'prepare', system: s, concurrency: conc }, 'prepared')));
    const starts = await Promise.all(kids.map((k) => k.request<{ goAt: number }>({ type: 'go' }, 'started')));
    const t0 = Math.min(...starts.map((x) => x.goAt)); // same wall clock on one machine
    let done = 0;
    for (;;) {
      done = await countDone(db, s, S.tasks);
      if (done >= S.tasks || clock() - t0 > S.capMs) break;
      await sleep(10);
    }
    const ms = clock() - t0;
    return { rate: done / (ms / 1000), done, ms, capped: done < S.tasks };
  } finally {
    await Promise.all(kids.map((k) => k.request({ type: 'stop' }, 'stopped', 60_000)));
    await dropSchema(s);
  }
}

interface Lat {
  p50: number;
  p99: number;
  mean: number;
  count: number;
}
async function latency(s: PgSystem): Promise<Lat> {
  await dropSchema(s);
  const producer = await openProducer(s);
  const [kid] = await getChildren(1);
  try {
    await kid!.request({ type: 'prepare', system: s, concurrency: S.latencyConcurrency }, 'prepared');
    await kid!.request({ type: 'go' }, 'started');
    await sleep(700); // the worker is idle, waiting
    const off = await kid!.offset();
    const t0 = clock() + 20;
    for (let i = 0; i < S.latencyTasks; i++) {
      await sleepUntil(t0 + i * S.latencyGapMs);
      await producer.sendOne(i);
    }
    const deadline = clock() + 10_000;
    while ((await countDone(db, s, S.latencyTasks)) < S.latencyTasks && clock() < deadline) await sleep(20);
    const { latencies } = await kid!.request<{ latencies: number[] }>({ type: 'stop' }, 'stopped', 60_000);
    const sum = summarize(latencies.map((l) => l - off));
    return { p50: sum.p50, p99: sum.p99, mean: sum.mean, count: sum.count };
  } finally {
    await kid!.request({ type: 'stop' }, 'stopped', 60_000).catch(() => {});
    await producer.close();
    await dropSchema(s);
  }
}

async function transactional(s: PgSystem): Promise<{ rate: number; commits: number }> {
  await dropSchema(s);
  const producer = await openProducer(s);
  const schema = schemaOf(s);
  await db.query(
    `CREATE TABLE ${schema}.bench_orders (id bigserial PRIMARY KEY, item int NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
  );
  const clients = await Promise.all(
    Array.from({ length: S.txClients }, async () => {
      const c = new pg.Client(PG_URL);
      await c.connect();
      return c;
    }),
  );
  const once = async (c: pg.Client, i: number): Promise<void> => {
    await c.query('BEGIN');
    try {
      await c.query(`INSERT INTO ${schema}.bench_orders (item) VALUES ($1)`, [i]);
      await producer.enqueueIn(c, i);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK');
      throw e;
    }
  };
  try {
    await Promise.all(clients.map((c, k) => once(c, -k))); // warm-up
    let commits = 0;
    const t0 = clock();
    await Promise.all(
      clients.map(async (c) => {
        while (clock() - t0 < S.txMs) await once(c, commits++);
      }),
    );
    const ms = clock() - t0;
    return { rate: commits / (ms / 1000), commits };
  } finally {
    await Promise.all(clients.map((c) => c.end()));
    await producer.close();
    await dropSchema(s);
  }
}

// ------------------------------------------------------------ main
const sh = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
};
const fmt = (n: number, d = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—';
const fx = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');

async function main(): Promise<void> {
  const startedAt = clock();
  db = new pg.Client(PG_URL);
  await db.connect();
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    postgres: (await db.query('SHOW server_version')).rows[0].server_version as string,
    cpu: /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?',
    nproc: availableParallelism(),
    loadBefore: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    git:
      sh('git', ['rev-parse', '--short', 'HEAD']) +
      (sh('git', ['status', '--porcelain', '--', 'src']) ? ' + uncommitted changes in src/' : ''),
    versions: Object.fromEntries(SYSTEMS.map((s) => [s, version(s)])) as Record<PgSystem, string>,
    command: `npx tsx bench/postgres/index.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
  };
  log(
    `PostgreSQL ${meta.postgres}, ${meta.nproc} CPUs, load ${meta.loadBefore}; ${JSON.stringify(meta.versions)}; ${JSON.stringify(S)}`,
  );
  const tp: Record<string, Record<PgSystem, Tp[]>> = {};
  const lat: Record<PgSystem, Lat[]> = { errand: [], 'pg-boss': [], 'graphile-worker': [] };
  const tx: Record<PgSystem, { rate: number; commits: number }[]> = { errand: [], 'pg-boss': [], 'graphile-worker': [] };
  for (const p of PHASES) tp[p.key] = { errand: [], 'pg-boss': [], 'graphile-worker': [] };
  try {
    for (let r = 0; r < S.runs; r++) {
      const order = SYSTEMS.map((_, i) => SYSTEMS[(i + r) % SYSTEMS.length]!).filter((s) => chosen?.has(s) ?? true); // rotate who goes first
      for (const p of PHASES.filter((phase) => runs(phase.key)))
        for (const s of order) {
          const x = await throughput(s, p.procs, p.conc);
          tp[p.key]![s].push(x);
          log(
            `run ${r + 1} throughput ${p.label} ${s}: ${fmt(x.rate)} tasks/s (${x.done}/${S.tasks} in ${fmt(x.ms)} ms${x.capped ? ', capped' : ''})`,
          );
        }
      for (const s of runs('latency') ? order : []) {
        const x = await latency(s);
        lat[s].push(x);
        log(`run ${r + 1} latency ${s}: p50 ${fmt(x.p50, 1)} ms, p99 ${fmt(x.p99, 1)} ms (${x.count} samples)`);
      }
      for (const s of runs('tx') ? order : []) {
        const x = await transactional(s);
        tx[s].push(x);
        log(`run ${r + 1} tx enqueue ${s}: ${fmt(x.rate)} tx/s`);
      }
    }
  } finally {
    await Promise.all(children.map((c) => c.exit()));
    for (const s of SYSTEMS) await dropSchema(s).catch(() => {});
    await db.end();
  }
  const runMs = clock() - startedAt;
  const peers = ['pg-boss', 'graphile-worker'] as const;
  const runRatio = <V>(xs: Record<PgSystem, V[]>, peer: PgSystem, f: (v: V) => number): number =>
    median(xs.errand.flatMap((v, i) => (xs[peer][i] === undefined ? [] : [ratio(f(v), f(xs[peer][i]!))])));

  const lines: string[] = [];
  const md = (s = ''): void => void lines.push(s);
  md('# Benchmarks: errand on PostgreSQL vs pg-boss and graphile-worker');
  md();
  md(`Generated by \`${meta.command}\` (\`npm run bench:postgres\`) on ${meta.date}. Do not edit by hand.`);
  md();
  md('| | |');
  md('|---|---|');
  md(`| machine | ${meta.cpu}, ${meta.nproc} CPUs |`);
  md(
    `| load average before | ${meta.loadBefore} (after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}) |`,
  );
  md(`| Node / PostgreSQL | ${meta.node} / ${meta.postgres} on 127.0.0.1, one database, one schema per system |`);
  md(`| errand | ${meta.versions.errand} (git ${meta.git}) |`);
  md(`| pg-boss | ${meta.versions['pg-boss']} |`);
  md(`| graphile-worker | ${meta.versions['graphile-worker']} |`);
  md(
    `| runs | ${S.runs}, interleaved (each phase runs every system before the next phase; the first system rotates per run); medians shown |`,
  );
  md(`| run time | ${fmt(runMs / 1000)} s |`);
  md();
  md(
    'Ratios are errand ÷ peer, computed within each run, then the median of those is shown (> 1 means errand is faster for throughput, slower for latency).',
  );
  md();
  md(`## 1. Throughput (${fmt(S.tasks)} no-op tasks pre-enqueued in bulk)`);
  md();
  md(
    `Tasks/s from the first worker start until the database records all ${fmt(S.tasks)} as done (polled every 10 ms). A phase stops at ${S.capMs / 1000} s; a capped rate (†) is tasks done ÷ ${S.capMs / 1000} s.`,
  );
  md();
  md('| phase | errand | pg-boss | graphile-worker | errand/pg-boss | errand/graphile-worker |');
  md('|---|--:|--:|--:|--:|--:|');
  for (const p of PHASES) {
    const x = tp[p.key]!;
    const cell = (s: PgSystem): string => `${fmt(median(x[s].map((v) => v.rate)))}${x[s].some((v) => v.capped) ? ' †' : ''}`;
    md(
      `| ${p.label} | ${cell('errand')} | ${cell('pg-boss')} | ${cell('graphile-worker')} | ${fx(runRatio(x, 'pg-boss', (v) => v.rate))} | ${fx(runRatio(x, 'graphile-worker', (v) => v.rate))} |`,
    );
  }
  md();
  md(
    `## 2. Latency, enqueue → handler start (${S.latencyTasks} tasks, one every ${S.latencyGapMs} ms, idle worker at concurrency ${S.latencyConcurrency})`,
  );
  md();
  md('| system | p50 ms | p99 ms | mean ms | wake-up |');
  md('|---|--:|--:|--:|---|');
  const wake: Record<PgSystem, string> = {
    errand: 'LISTEN/NOTIFY (`q:<queue>` at COMMIT); 1 s fallback poll',
    'pg-boss': 'polling only (10.x has no LISTEN/NOTIFY); pollingIntervalSeconds 0.5, the minimum',
    'graphile-worker': 'LISTEN/NOTIFY (default); 2 s fallback poll',
  };
  for (const s of SYSTEMS)
    md(
      `| ${s} | ${fmt(median(lat[s].map((v) => v.p50)), 1)} | ${fmt(median(lat[s].map((v) => v.p99)), 1)} | ${fmt(median(lat[s].map((v) => v.mean)), 1)} | ${wake[s]} |`,
    );
  md();
  for (const peer of peers)
    md(
      `errand/${peer}: p50 ${fx(runRatio(lat, peer, (v) => v.p50))}, p99 ${fx(runRatio(lat, peer, (v) => v.p99))} (< 1: errand starts sooner).`,
    );
  md();
  md(`## 3. Enqueue inside the caller's transaction (${S.txClients} concurrent clients, ${S.txMs / 1000} s)`);
  md();
  md('Each transaction: `BEGIN; INSERT INTO bench_orders …; <enqueue on the same client>; COMMIT`. No worker running.');
  md();
  md('| system | transactions/s | enqueue call |');
  md('|---|--:|---|');
  const how: Record<PgSystem, string> = {
    errand: '`task.applyAsync(args, { db: client })`',
    'pg-boss': '`boss.send(name, data, { db: { executeSql: (text, values) => client.query(text, values) } })`',
    'graphile-worker': '`SELECT <schema>.add_job($1, $2::json)` on the client',
  };
  for (const s of SYSTEMS) md(`| ${s} | ${fmt(median(tx[s].map((v) => v.rate)))} | ${how[s]} |`);
  md();
  for (const peer of peers) md(`errand/${peer}: ${fx(runRatio(tx, peer, (v) => v.rate))}.`);
  md();
  md('<!-- notes -->');
  const text = lines.join('\n') + '\n';
  console.log('\n' + text);
  if (writeDocs) {
    const path = new URL('../../docs/benchmarks-postgres.md', import.meta.url);
    let notes = '';
    try {
      const old = readFileSync(path, 'utf8');
      const i = old.indexOf('<!-- notes -->');
      if (i >= 0) notes = old.slice(i + '<!-- notes -->'.length);
    } catch {
      /* first run */
    }
    writeFileSync(path, text.replace(/<!-- notes -->\n$/, '<!-- notes -->') + notes);
    log('wrote docs/benchmarks-postgres.md');
  }
  writeFileSync('/tmp/bench-postgres-last.json', JSON.stringify({ meta, S, tp, lat, tx, runMs }, null, 2));
}

main().catch(async (e) => {
  console.error(e);
  await Promise.all(children.map((c) => c.exit()));
  process.exit(1);
});
