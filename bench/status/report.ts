import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, availableParallelism, loadavg } from 'node:os';
import type { Summary } from '../stats.js';
import type { FanoutRow } from './fanout.js';
import type { FormRow } from './form-load.js';
import type { LatencyRow } from './latency.js';

export interface Environment {
  date: string;
  node: string;
  redis: string;
  errand: string;
  fastify: string;
  ws: string;
  nproc: number;
  cpu: string;
  loadBefore: number[];
  loadAfter?: number[];
  command: string;
  durationS?: number;
}

export interface StatusResults {
  env: Environment;
  latency?: LatencyRow[];
  form?: FormRow[];
  fanout?: FanoutRow[];
}

export const TARGETS = {
  /** Task finished → client informed, WS and SSE on Redis (issue 10; it was 10 ms in issue 3). */
  pushP99Ms: 3,
  formP99Ms: 50,
  /** One task's update to 10,000 WebSocket subscribers of one web process: finish → the last socket (issue 10). */
  fanoutLastMs: 1000,
  fanoutSockets: 10_000,
};

export function machine(): Pick<Environment, 'nproc' | 'cpu' | 'node'> {
  return { nproc: availableParallelism(), cpu: cpus()[0]?.model ?? '?', node: process.version };
}

export function load(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const i = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '–');
const verdict = (ok: boolean): string => (ok ? '**met**' : '**missed**');

function latencyTable(rows: LatencyRow[]): string {
  const label: Record<string, string> = { ws: 'WebSocket', sse: 'SSE', poll: 'poll every 1 s' };
  return table(
    ['broker', 'transport', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'failed'],
    rows.map((r) => {
      const s: Summary = r.summary;
      return [r.broker, label[r.transport] ?? r.transport, s.count, f(s.p50, 2), f(s.p90, 2), f(s.p99, 2), f(s.max, 2), r.failed];
    }),
  );
}

function formTable(rows: FormRow[]): string {
  return table(
    ['server', 'load', 'req/s', 'p50 ms', 'p99 ms', 'max ms', '2xx', 'non-2xx + errors', 'queued at end', 'taken by worker'],
    rows.map((r) => [
      r.server,
      r.mode,
      f(r.reqPerSec, 1),
      r.p50,
      r.p99,
      r.max,
      i(r.ok),
      r.non2xx + r.errors,
      r.queued === undefined ? '–' : i(r.queued),
      r.taken === undefined ? '–' : i(r.taken),
    ]),
  );
}

function fanoutTable(rows: FanoutRow[]): string {
  return table(
    [
      'scenario',
      'connected',
      'connect/s',
      'RSS KB/conn',
      'heap KB/conn',
      'web RSS MB',
      'finish→first ms',
      'p50 ms',
      'p99 ms',
      'finish→last ms',
      'missing',
      'loop delay max ms',
    ],
    rows.map((r) => [
      r.scenario,
      `${i(r.connected)}${r.failed ? ` (${r.failed} failed)` : ''}`,
      i(r.connectRate),
      f(r.rssPerConnKb),
      f(r.heapPerConnKb),
      f(r.rssAfterMb, 0),
      f(r.firstMs),
      f(r.p50),
      f(r.p99),
      f(r.lastMs),
      r.missing,
      f(r.loopDelayMaxMs),
    ]),
  );
}

/** The targets of issue 3 against this run. */
function targets(results: StatusResults): string[] {
  const lines: string[] = [];
  for (const r of results.latency ?? []) {
    if (r.broker !== 'redis' || r.transport === 'poll') continue;
    lines.push(
      `- ${r.transport.toUpperCase()} on Redis, p99 < ${TARGETS.pushP99Ms} ms: ${verdict(r.summary.p99 < TARGETS.pushP99Ms)} (p99 ${f(r.summary.p99, 2)} ms)`,
    );
  }
  for (const r of (results.form ?? []).filter((row) => row.queued !== undefined)) {
    lines.push(
      `- POST /form/ p99 < ${TARGETS.formP99Ms} ms, ${r.server}, ${r.mode}: ${verdict(r.p99 < TARGETS.formP99Ms)} (p99 ${r.p99} ms, ${i(r.queued!)} tasks queued)`,
    );
  }
  for (const r of (results.fanout ?? []).filter(
    (row) => row.sockets === TARGETS.fanoutSockets && row.scenario.startsWith('1 task '),
  )) {
    const ok = r.missing === 0 && r.connected === r.sockets && r.lastMs < TARGETS.fanoutLastMs;
    lines.push(
      `- ${r.scenario}, finish → last socket < ${i(TARGETS.fanoutLastMs)} ms: ${verdict(ok)} (${i(Math.round(r.lastMs))} ms, ${r.missing} missing)`,
    );
  }
  return lines;
}

/** The markdown section: environment, tables, targets. */
export function renderMarkdown(results: StatusResults): string {
  const { env } = results;
  const out: string[] = [];
  out.push(
    `Run ${env.date} with \`${env.command}\`${env.durationS ? ` (${env.durationS.toFixed(0)} s)` : ''}: node ${env.node}, Redis ${env.redis}, errand ${env.errand}, fastify ${env.fastify}, ws ${env.ws}; ` +
      `${env.nproc} cores (${env.cpu}), shared: load average ${env.loadBefore.join(' / ')} (1/5/15 min) at the start` +
      `${env.loadAfter ? `, ${env.loadAfter.join(' / ')} at the end` : ''}.`,
  );
  if (results.latency) {
    out.push(
      '### 1. Task finished → client informed',
      'Web process (Fastify + `errandWeb`) and worker in separate child processes; the clients in the bench process. ' +
        "Latency = receipt of the terminal message − the handler's last `clock()` (same machine clock, IPC-measured offset removed). " +
        'WS/SSE: one task at a time, released once the client has seen STARTED. Poll: GET `/task_status/` at once and every 1000 ms, ' +
        'tasks finishing at a random phase (sleep 20 + U(0, 1000) ms), 20 watchers at a time.',
      latencyTable(results.latency),
    );
  }
  if (results.form) {
    out.push(
      '### 2. `POST /form/` under load',
      "autocannon, 50 connections, CSRF cookie + `X-CSRFToken`, body `email=a%40example.com&username=bench`. The reference app's web process " +
        '(`app/web-main.ts`) and worker (`app/worker.ts`, 10 at once) with `DEMO_API_DELAY_MS=5000`, so the queue only grows. ' +
        'The paced run follows the saturating one, with its backlog still queued. The inline server awaits the 5 s call in the handler ' +
        '(its ceiling is connections / 5 s = 10 req/s).',
      formTable(results.form),
    );
  }
  if (results.fanout) {
    out.push(
      '### 3. Concurrent WebSocket subscribers on one web process',
      'Bench web process (Fastify + `errandWeb`, Redis), sockets opened from 2 client child processes (200 handshakes in flight each). ' +
        'Memory: web process RSS and heapUsed after a full GC, before and after connecting, divided by connections. ' +
        "Delivery: from the task handler's finish to each socket receiving SUCCESS (the server then closes it).",
      fanoutTable(results.fanout),
    );
  }
  const t = targets(results);
  if (t.length) out.push('### Targets', t.join('\n'));
  return out.join('\n\n') + '\n';
}

const START = '<!-- status-bench:generated:start -->';
const END = '<!-- status-bench:generated:end -->';

/**
 * Writes the generated section into docs/benchmarks-status.md between markers,
 * keeping the hand-written text around it (analysis, profiles).
 */
export function writeDocs(path: string, generated: string): void {
  const block = `${START}\n${generated}${END}`;
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a >= 0 && b > a) {
      writeFileSync(path, text.slice(0, a) + block + text.slice(b + END.length));
      return;
    }
  }
  writeFileSync(path, `# Benchmarks: task status and web\n\n${block}\n`);
}
