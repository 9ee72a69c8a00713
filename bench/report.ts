import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { BenchResults } from './results.js';
import { median, ratio } from './stats.js';
import type { SystemName } from './systems/types.js';
import { BULK_WARM_UP_BATCHES, type BulkSample } from './workloads/bulk.js';
import type { CommandsSample, WindowCounts } from './workloads/commands.js';
import { WARM_UP, type LatencySample } from './workloads/latency.js';
import { PHASES, type ThroughputPhase, type ThroughputSample } from './workloads/throughput.js';

type Table = { title: string; headers: string[]; rows: string[][]; notes?: string[] };

const PEERS: SystemName[] = ['bullmq', 'bee-queue'];
const PHASE_KEYS = Object.keys(PHASES) as ThroughputPhase[];

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '–');
const x = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '–');
const per = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '–');

function runsOf(results: BenchResults): number[] {
  const runs = new Set<number>();
  for (const s of results.throughput) runs.add(s.run);
  for (const s of results.latency) runs.add(s.run);
  return [...runs].sort((a, b) => a - b);
}

function measured(results: BenchResults): SystemName[] {
  return results.systems.filter((s) => s.available).map((s) => s.name);
}

/** One throughput figure of a system in a run. */
function tp(
  results: BenchResults,
  system: string,
  run: number,
  phase: ThroughputPhase,
  key: 'processPerSec' | 'enqueuePerSec',
): number {
  return results.throughput.find((s) => s.system === system && s.run === run && s.phase === phase)?.[key] ?? NaN;
}

/** Enqueue rate of a system in a run: the median over that run's fills. */
function enqueueRate(results: BenchResults, system: string, run: number): number {
  return median(results.throughput.filter((s) => s.system === system && s.run === run).map((s) => s.enqueuePerSec));
}

function altEnqueueRate(results: BenchResults, system: string, run: number): number {
  return median(
    results.throughput
      .filter((s) => s.system === system && s.run === run && s.altEnqueuePerSec !== undefined)
      .map((s) => s.altEnqueuePerSec!),
  );
}

function lat(results: BenchResults, system: string, run: number): LatencySample | undefined {
  return results.latency.find((s) => s.system === system && s.run === run);
}

type Metric = { label: string; value: (system: string, run: number) => number; higherIsBetter: boolean };

function metrics(results: BenchResults): Metric[] {
  const list: Metric[] = [];
  if (results.throughput.length > 0) {
    list.push({ label: 'enqueue (bulk), tasks/s', value: (s, r) => enqueueRate(results, s, r), higherIsBetter: true });
    for (const phase of PHASE_KEYS) {
      list.push({
        label: `processing ${PHASES[phase].label}, tasks/s`,
        value: (s, r) => tp(results, s, r, phase, 'processPerSec'),
        higherIsBetter: true,
      });
    }
  }
  if (results.latency.length > 0) {
    list.push({
      label: 'enqueue → start p50, ms',
      value: (s, r) => lat(results, s, r)?.toStart.p50 ?? NaN,
      higherIsBetter: false,
    });
    list.push({
      label: 'enqueue → start p99, ms',
      value: (s, r) => lat(results, s, r)?.toStart.p99 ?? NaN,
      higherIsBetter: false,
    });
    list.push({
      label: 'enqueue → result p50, ms',
      value: (s, r) => lat(results, s, r)?.toResult.p50 ?? NaN,
      higherIsBetter: false,
    });
    list.push({
      label: 'enqueue → result p99, ms',
      value: (s, r) => lat(results, s, r)?.toResult.p99 ?? NaN,
      higherIsBetter: false,
    });
  }
  return list;
}

function throughputTables(results: BenchResults): Table[] {
  if (results.throughput.length === 0) return [];
  const runs = runsOf(results);
  const systems = measured(results);
  const medianOf = (system: string, f: (run: number) => number): number => median(runs.map(f));
  const summary: Table = {
    title: `Throughput, ${int(results.settings.tasks)} no-op tasks (tasks/s, median of ${runs.length} run${runs.length > 1 ? 's' : ''})`,
    headers: ['system', 'enqueue (bulk)', ...PHASE_KEYS.map((p) => PHASES[p].label)],
    rows: systems.map((system) => [
      system,
      int(medianOf(system, (r) => enqueueRate(results, system, r))),
      ...PHASE_KEYS.map((p) => int(medianOf(system, (r) => tp(results, system, r, p, 'processPerSec')))),
    ]),
    notes: [
      'Enqueue: ' +
        results.systems
          .filter((s) => s.available)
          .map((s) => `${s.name}: ${s.bulkMethod}`)
          .join('; ') +
        '.',
      ...results.systems
        .filter((s) => s.available && s.altBulkMethod)
        .map((s) => {
          const alt = median(runs.map((r) => altEnqueueRate(results, s.name, r)));
          return `${s.name} through ${s.altBulkMethod}: ${int(alt)} tasks/s (median).`;
        }),
      'Processing is timed from the moment the worker process(es) start taking tasks (already connected, queue pre-filled) to the last completion recorded in the broker.',
    ],
  };
  const perRun: Table = {
    title: 'Throughput, every run (tasks/s)',
    headers: ['measure', 'system', ...runs.map((r) => `run ${r}`), 'median'],
    rows: [],
  };
  const rows: Array<[string, (s: string, r: number) => number]> = [
    ['enqueue (bulk)', (s, r) => enqueueRate(results, s, r)],
    ...PHASE_KEYS.map((p): [string, (s: string, r: number) => number] => [
      PHASES[p].label,
      (s, r) => tp(results, s, r, p, 'processPerSec'),
    ]),
  ];
  for (const [label, f] of rows) {
    for (const system of systems) {
      const values = runs.map((r) => f(system, r));
      perRun.rows.push([label, system, ...values.map(int), int(median(values))]);
    }
  }
  const redisSystems = systems.filter((s) => s !== 'errand-sqlite');
  const phaseMedian = (system: string, p: ThroughputPhase, f: (t: ThroughputSample) => number): number =>
    median(results.throughput.filter((t) => t.system === system && t.phase === p).map(f));
  const flushes: Table = {
    title:
      'Per task while processing: round trips (socket flushes to Redis by the worker processes) and Redis CPU (median over runs)',
    headers: ['system', ...PHASE_KEYS.flatMap((p) => [`${p}: flushes`, `${p}: Redis CPU µs`])],
    rows: redisSystems.map((system) => [
      system,
      ...PHASE_KEYS.flatMap((p) => [
        per(phaseMedian(system, p, (t) => t.flushesPerTask)),
        per(
          phaseMedian(system, p, (t) => (1000 * t.redisCpuMs) / t.tasks),
          1,
        ),
      ]),
    ]),
    notes: [
      'A flush is one _write/_writev of a Redis socket: commands written together (pipelined, corked, or queued while the socket was busy) count once.',
      'Redis CPU: used_cpu_user + used_cpu_sys of the server from worker start to the end of processing (server-wide: anyone else using this Redis adds to it).',
    ],
  };
  return [summary, perRun, flushes];
}

function bulkOf(results: BenchResults, system: string): BulkSample[] {
  return (results.bulk ?? []).filter((s) => s.system === system).sort((a, b) => a.round - b.round);
}

/** Median bulk rate of a system, and of its within-round ratio to a peer. */
function bulkMedian(results: BenchResults, system: string): number {
  return median(bulkOf(results, system).map((s) => s.perSec));
}

function bulkRatio(results: BenchResults, system: string, peer: string): number {
  const peerBy = new Map(bulkOf(results, peer).map((s) => [s.round, s.perSec]));
  return median(bulkOf(results, system).map((s) => ratio(s.perSec, peerBy.get(s.round))));
}

function bulkTables(results: BenchResults): Table[] {
  const bulk = results.bulk ?? [];
  if (bulk.length === 0) return [];
  const { tasks, batch } = bulk[0]!;
  const rounds = [...new Set(bulk.map((s) => s.round))].sort((a, b) => a - b);
  const systems = measured(results).filter((s) => bulkOf(results, s).length > 0);
  const peer = systems.includes('bee-queue') ? 'bee-queue' : undefined;
  return [
    {
      title: `Bulk enqueue, ${int(tasks)} tasks in batches of ${int(batch)} (tasks/s, median of ${rounds.length} interleaved round${rounds.length > 1 ? 's' : ''})`,
      headers: [
        'system',
        'bulk call',
        ...rounds.map((r) => `round ${r}`),
        'median',
        ...(peer ? [`vs ${peer} (median of within-round ratios)`] : []),
      ],
      rows: systems.map((system) => {
        const samples = bulkOf(results, system);
        return [
          system,
          samples[0]!.method,
          ...rounds.map((r) => int(samples.find((s) => s.round === r)?.perSec ?? NaN)),
          int(bulkMedian(results, system)),
          ...(peer ? [system === peer ? '1.00x' : x(bulkRatio(results, system, peer))] : []),
        ];
      }),
      notes: [
        `One bulk call per batch from the harness process, each awaited before the next; no worker runs. ${BULK_WARM_UP_BATCHES} warm-up batches per system and round are not counted; storage is emptied before each system's turn.`,
        'errand-redis: task.delayMany is one enqueueMany, one script call per 1,000 tasks (ids, JSON checks and encoding in the producer). bee-queue: saveAll pipelines one addJob script call per job (one batch, one round trip). BullMQ: addBulk pipelines one add-job script call per job. errand-sqlite: one transaction per batch.',
      ],
    },
  ];
}

function ratioTable(results: BenchResults): Table | undefined {
  const systems = measured(results);
  if (!systems.includes('errand-redis')) return undefined;
  const peers = PEERS.filter((p) => systems.includes(p));
  if (peers.length === 0) return undefined;
  const runs = runsOf(results);
  if (metrics(results).length === 0) return undefined;
  const table: Table = {
    title: 'errand-redis against the peers, within each run (ratio errand / peer)',
    headers: ['measure', 'vs', ...runs.map((r) => `run ${r}`), 'median'],
    rows: [],
    notes: ['Throughput: above 1 means errand is faster. Latency: below 1 means errand is quicker.'],
  };
  for (const metric of metrics(results)) {
    for (const peer of peers) {
      const values = runs.map((r) => ratio(metric.value('errand-redis', r), metric.value(peer, r)));
      table.rows.push([metric.label, peer, ...values.map(x), x(median(values))]);
    }
  }
  return table;
}

function latencyTable(results: BenchResults): Table[] {
  if (results.latency.length === 0) return [];
  const runs = runsOf(results);
  const systems = measured(results);
  const m = (system: string, f: (s: LatencySample) => number): string =>
    ms(
      median(
        runs
          .map((r) => lat(results, system, r))
          .filter((s): s is LatencySample => !!s)
          .map(f),
      ),
    );
  const offsets = results.latency.map((s) => Math.abs(s.clockOffsetMs));
  const rtts = results.latency.map((s) => s.clockRttMs);
  const gaps = results.latency.map((s) => s.meanGapMs);
  return [
    {
      title: `Latency, ${results.settings.latencyTasks} tasks ${results.settings.latencyGapMs} ms apart to an idle worker process at concurrency 50 (ms, median over runs of each percentile)`,
      headers: [
        'system',
        'start p50',
        'start p90',
        'start p99',
        'start max',
        'result p50',
        'result p90',
        'result p99',
        'result max',
        'enqueue call p50',
      ],
      rows: systems.map((s) => [
        s,
        m(s, (l) => l.toStart.p50),
        m(s, (l) => l.toStart.p90),
        m(s, (l) => l.toStart.p99),
        m(s, (l) => l.toStart.max),
        m(s, (l) => l.toResult.p50),
        m(s, (l) => l.toResult.p90),
        m(s, (l) => l.toResult.p99),
        m(s, (l) => l.toResult.max),
        m(s, (l) => l.enqueueCall.p50),
      ]),
      notes: [
        '"start": from the producer calling enqueue to the handler starting (its clock reading, returned as the result). "result": from that call to the producer holding the result (errand: app.result(id).get(); BullMQ: QueueEvents "completed"; bee-queue: the queue-level "job succeeded" event).',
        `Before the measured tasks, ${WARM_UP} warm-up tasks are sent one at a time and not counted.`,
        `Clocks: performance.timeOrigin + performance.now() in both processes; the worker clock's offset, estimated over IPC, was at most ${ms(Math.max(...offsets))} ms (best round trip ${ms(Math.min(...rtts))}–${ms(Math.max(...rtts))} ms), not corrected for. Mean gap between sends: ${ms(Math.min(...gaps))}–${ms(Math.max(...gaps))} ms.`,
      ],
    },
  ];
}

function total(c: CommandsSample, f: (w: WindowCounts) => number): number {
  return (c.enqueue ? f(c.enqueue) : 0) + (c.process ? f(c.process) : 0);
}

function topCommands(c: CommandsSample, limit = 8): string {
  const sum = new Map<string, number>();
  for (const w of [c.enqueue, c.process]) {
    for (const [cmd, n] of Object.entries(w?.monitor.byCommand ?? {})) sum.set(cmd, (sum.get(cmd) ?? 0) + n);
  }
  return [...sum]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([cmd, n]) => `${cmd} ${per(n / c.tasks)}`)
    .join(', ');
}

function commandTables(results: BenchResults): Table[] {
  const redis = results.commands.filter((c) => c.enqueue && c.process);
  const tables: Table[] = [];
  if (redis.length > 0) {
    const n = redis[0]!.tasks;
    tables.push({
      title: `Redis commands and round trips per task (${int(n)} tasks: bulk enqueue, then one worker process at concurrency 50 drains the queue)`,
      headers: [
        'system',
        'calls/task (INFO commandstats)',
        'calls/task (MONITOR, bench db)',
        'of which inside scripts',
        'commands sent/task',
        'socket flushes/task (≈ round trips)',
        'enqueue calls/task',
        'processing calls/task',
      ],
      rows: redis.map((c) => [
        c.system,
        per(total(c, (w) => w.commandstats) / c.tasks) + (c.commandstatsPolluted ? ' *' : ''),
        per(total(c, (w) => w.monitor.total) / c.tasks),
        per(total(c, (w) => w.monitor.inScripts) / c.tasks),
        per(total(c, (w) => w.monitor.fromClients) / c.tasks),
        per(total(c, (w) => w.flushes) / c.tasks),
        per(c.enqueue!.monitor.total / c.tasks),
        per(c.process!.monitor.total / c.tasks),
      ]),
      notes: [
        'calls: every command Redis executed, those run inside EVAL/EVALSHA/FCALL scripts included, plus the script call itself (as INFO commandstats counts them).',
        'commandstats is server-wide; MONITOR is limited to the bench db and the benchmarked clients. * = commandstats saw more than MONITOR: someone else used this Redis during the window; trust the MONITOR column.',
        'commands sent: what the clients put on the wire (a script call counts once). Socket flushes: calls of net.Socket _write/_writev on Redis sockets in the producer and worker processes (pipelined or corked commands leave together and count once): the round trips started.',
        'Idle polling (blocking pops timing out, lease renewals, stalled-job checks) inside the window is included.',
      ],
    });
    tables.push({
      title: 'Top commands per task (MONITOR, enqueue + processing)',
      headers: ['system', 'commands per task'],
      rows: redis.map((c) => [c.system, topCommands(c)]),
    });
    tables.push({
      title: 'Redis memory left per finished task (default retention)',
      headers: ['system', 'bytes/task (MEMORY USAGE)', 'keys/task', 'used_memory Δ/task', 'largest key shapes (bytes/task)'],
      rows: redis.map((c) => [
        c.system,
        int(c.memory!.bytes / c.tasks),
        per(c.memory!.keys / c.tasks),
        int(c.memory!.usedMemoryDelta / c.tasks),
        c
          .memory!.byShape.slice(0, 4)
          .map((s) => `${s.shape} ${int(s.bytes / c.tasks)}`)
          .join(', '),
      ]),
      notes: [
        'bytes/task: MEMORY USAGE <key> SAMPLES 0 summed over every key in the bench db after all tasks finished, divided by the task count. used_memory Δ: INFO memory before enqueue vs after (server-wide, allocator overhead included; noisy if others use the server).',
      ],
    });
  }
  const sqlite = results.commands.find((c) => c.fileBytes !== undefined);
  if (sqlite) {
    tables.push({
      title: 'errand-sqlite storage per finished task',
      headers: ['system', 'tasks', 'database + WAL bytes/task'],
      rows: [[sqlite.system, int(sqlite.tasks), int(sqlite.fileBytes! / sqlite.tasks)]],
    });
  }
  return tables;
}

export interface Target {
  target: string;
  measured: string;
  met: boolean | undefined;
}

export function targets(results: BenchResults): Target[] {
  const runs = runsOf(results);
  const list: Target[] = [];
  const medRatio = (phase: ThroughputPhase, peer: SystemName): number =>
    median(
      runs.map((r) =>
        ratio(tp(results, 'errand-redis', r, phase, 'processPerSec'), tp(results, peer, r, phase, 'processPerSec')),
      ),
    );
  const have = (s: SystemName): boolean => results.throughput.some((t) => t.system === s);
  const check = (value: number, ok: (v: number) => boolean): boolean | undefined =>
    Number.isFinite(value) ? ok(value) : undefined;
  if (have('errand-redis') && have('bullmq')) {
    for (const phase of ['c50', '2p'] as const) {
      const r = medRatio(phase, 'bullmq');
      list.push({ target: `errand-redis ≥ 2x BullMQ, ${PHASES[phase].label}`, measured: x(r), met: check(r, (v) => v >= 2) });
    }
    const r = medRatio('c1', 'bullmq');
    list.push({ target: `errand-redis ≥ BullMQ, ${PHASES.c1.label}`, measured: x(r), met: check(r, (v) => v >= 1) });
  }
  if (have('errand-redis') && have('bee-queue')) {
    for (const phase of ['c50', '2p'] as const) {
      const r = medRatio(phase, 'bee-queue');
      list.push({
        target: `errand-redis ahead of bee-queue, ${PHASES[phase].label}`,
        measured: x(r),
        met: check(r, (v) => v > 1),
      });
    }
  }
  if (results.latency.some((l) => l.system === 'errand-redis')) {
    const p99 = median(runs.map((r) => lat(results, 'errand-redis', r)?.toStart.p99 ?? NaN));
    list.push({ target: 'errand-redis p99 enqueue → start < 2 ms', measured: `${ms(p99)} ms`, met: check(p99, (v) => v < 2) });
  }
  if (bulkOf(results, 'errand-redis').length > 0 && bulkOf(results, 'bee-queue').length > 0) {
    const r = bulkRatio(results, 'errand-redis', 'bee-queue');
    list.push({
      target: 'errand-redis task.delayMany ≥ bee-queue queue.saveAll (bulk enqueue)',
      measured: x(r),
      met: check(r, (v) => v >= 1),
    });
  }
  const cmd = results.commands.find((c) => c.system === 'errand-redis' && c.process);
  if (cmd) {
    const calls = total(cmd, (w) => (cmd.commandstatsPolluted ? w.monitor.total : w.commandstats)) / cmd.tasks;
    list.push({ target: 'errand-redis ≤ 12 Redis commands per task (busy path)', measured: per(calls), met: calls <= 12 });
  }
  if (have('errand-sqlite')) {
    const rate = median(runs.map((r) => tp(results, 'errand-sqlite', r, 'c50', 'processPerSec')));
    list.push({
      target: 'errand-sqlite ≥ 5,000 tasks/s, 1 process at concurrency 50',
      measured: `${int(rate)} tasks/s`,
      met: check(rate, (v) => v >= 5000),
    });
  }
  return list;
}

function targetTable(results: BenchResults): Table | undefined {
  const list = targets(results);
  if (list.length === 0) return undefined;
  return {
    title: 'Targets',
    headers: ['target', 'measured', ''],
    rows: list.map((t) => [t.target, t.measured, t.met === undefined ? 'n/a' : t.met ? 'met' : 'MISSED']),
    notes: ['Ratios are medians of the within-run ratios.'],
  };
}

function profileTables(results: BenchResults): Table[] {
  return results.profiles.flatMap((p) => [
    {
      title: `CPU profile: ${p.label}: ${int(p.totalMs)} ms busy, by module`,
      headers: ['module', 'self %', 'self ms'],
      rows: p.byModule.map((m) => [m.module, per(m.selfPct, 1), int(m.selfMs)]),
    },
    {
      title: `CPU profile: ${p.label}: top functions by self time`,
      headers: ['self %', 'self ms', 'function', 'where'],
      rows: p.top.map((t) => [per(t.selfPct, 1), int(t.selfMs), t.fn, t.where]),
    },
  ]);
}

export function allTables(results: BenchResults): Table[] {
  return [
    ...throughputTables(results),
    ...bulkTables(results),
    ratioTable(results),
    ...latencyTable(results),
    ...commandTables(results),
    targetTable(results),
    ...profileTables(results),
  ].filter((t): t is Table => t !== undefined);
}

/** Plain-text tables for the terminal. */
export function renderText(results: BenchResults): string {
  const out: string[] = [];
  for (const t of allTables(results)) {
    out.push('', t.title, '='.repeat(Math.min(100, t.title.length)));
    const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]): string =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    out.push(line(t.headers), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line));
    for (const note of t.notes ?? []) out.push(`  ${note}`);
  }
  if (results.errors.length > 0) out.push('', 'Errors:', ...results.errors.map((e) => `  - ${e.split('\n')[0]}`));
  return out.join('\n');
}

function mdTable(t: Table): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    `### ${t.title}`,
    '',
    `| ${t.headers.map(esc).join(' | ')} |`,
    `| ${t.headers.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  if (t.notes?.length) lines.push('', ...t.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

const ANALYSIS_START = '<!-- analysis:start -->';
const ANALYSIS_END = '<!-- analysis:end -->';

/** The markdown report; the hand-written analysis section of an existing file is kept. */
export function renderMarkdown(results: BenchResults, previous?: string): string {
  const { meta, settings } = results;
  const version = (name: SystemName): string => results.systems.find((s) => s.name === name)?.version ?? '–';
  let analysis = `${ANALYSIS_START}\n_No analysis written yet._\n${ANALYSIS_END}`;
  if (previous) {
    const a = previous.indexOf(ANALYSIS_START);
    const b = previous.indexOf(ANALYSIS_END);
    if (a >= 0 && b > a) analysis = previous.slice(a, b + ANALYSIS_END.length);
  }
  const lines = [
    '# Benchmarks',
    '',
    '_Generated by `npm run bench` (bench/index.ts); the analysis section is written by hand and kept when the file is regenerated._',
    '',
    `- Date: ${meta.date}`,
    `- Versions: errand ${version('errand-redis')} (git ${meta.git ?? '?'}), BullMQ ${version('bullmq')}, bee-queue ${version('bee-queue')}, Node ${meta.node}, Redis ${meta.redis}`,
    `- Machine: ${meta.nproc} CPUs (\`nproc\`), ${meta.cpu}`,
    `- Load (\`uptime\`) before: ${meta.loadBefore}; after: ${meta.loadAfter ?? '?'}. Other engineers use this machine and this Redis, so absolute numbers are noisy; compare ratios within a run.`,
    `- Settings: ${settings.runs} run(s); ${int(settings.tasks)} tasks per throughput phase; ${settings.latencyTasks} latency tasks ${settings.latencyGapMs} ms apart; ${int(settings.commandTasks)} tasks for the command count. Duration ${meta.durationS !== undefined ? `${Math.round(meta.durationS)} s` : '?'}.`,
    `- Command: \`${meta.command}\``,
    '',
    '## How to reproduce',
    '',
    '```sh',
    'redis-server --port 6379            # Redis 7 on 127.0.0.1:6379; the bench uses db 15 only (BENCH_REDIS_DB) and flushes it between systems',
    'npm run bench                       # everything: 3 interleaved runs, about 10 minutes; writes this file',
    'npm run bench -- --quick            # fewer tasks, one run (does not write this file unless --docs)',
    'npm run bench -- --only=throughput,latency,commands,bulk --systems=errand-redis,bullmq,bee-queue,errand-sqlite',
    'npm run bench -- --only=bulk --bulk-tasks=20000 --bulk-batch=1000   # bulk enqueue only, 3 interleaved rounds (about 20 s)',
    'npm run bench -- --profile          # CPU profiles of errand (worker and producer), top functions',
    '```',
    '',
    '## Method',
    '',
    "- Systems run one after the other (never at once) against the same Redis, in the order errand-redis, BullMQ, bee-queue, errand-sqlite, for every phase of every run (A B C D A B C D …). The bench database is flushed before each system's phase; errand-sqlite's file is deleted.",
    '- Every system runs with its defaults (results/completed jobs kept: errand 24 h, BullMQ and bee-queue keep everything). bee-queue workers run with `getEvents: false` (they need no job events); the bee-queue producer is `isWorker: false`, `storeJobs: false`, and waits for results through the queue-level `job succeeded` event (the job-level `succeeded` event is lost when the event overtakes the reply to `save()`, which happened here under load).',
    "- The producer (enqueue, result waiting) runs in the harness process; the harness's own Redis connection (flush, INFO, MONITOR) is left out of every count.",
    '- Workers always run in child processes (`node --import tsx bench/worker.ts`), connected before the clock starts; errand workers are `app.worker({ concurrency, handleSignals: false })`. A task counts as done once its success is recorded in the broker (errand: `backend.complete` resolved; BullMQ: worker "completed"; bee-queue: queue "succeeded").',
    '- The task is a no-op taking its index as argument; for latency it returns the clock reading at its start.',
    '- Earlier measurements of the peers on this machine, for orientation: BullMQ 2,261 jobs/s at c1, 7,665 at c50, 5,900 with 2 processes; bee-queue 1,499 / 10,280 / 12,085; enqueue → start p50/p99 BullMQ 1.3/5.3 ms, bee-queue 0.8/3.0 ms.',
    '',
    '## Results',
    '',
    ...allTables(results).flatMap((t) => [mdTable(t), '']),
  ];
  if (results.errors.length > 0)
    lines.push('### Errors during the run', '', ...results.errors.map((e) => `- ${e.split('\n')[0]}`), '');
  const unavailable = results.systems.filter((s) => !s.available);
  if (unavailable.length > 0) {
    lines.push('### Not measured', '', ...unavailable.map((s) => `- ${s.name}: ${s.error?.split('\n')[0] ?? 'unavailable'}`), '');
  }
  lines.push('## Analysis', '', analysis, '');
  return lines.join('\n');
}

export function writeMarkdown(path: string, results: BenchResults): void {
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  writeFileSync(path, renderMarkdown(results, previous));
}
