// `npm run chaos:report`: turns the figures of the last `npm run test:chaos`
// (test-results/chaos-figures.jsonl) into the table of docs/reliability.md,
// between its `chaos-table` markers. The prose around the table is by hand.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Figures = Record<string, unknown> & { scenario: string; broker: string; run: string; at: string };
type Obj = Record<string, unknown>;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIGURES = join(ROOT, 'test-results', 'chaos-figures.jsonl');
const DOC = join(ROOT, 'docs', 'reliability.md');
const BEGIN = '<!-- chaos-table:begin -->';
const END = '<!-- chaos-table:end -->';

interface Row {
  what: string;
  tasks: string;
  lost: string;
  duplicates: string;
  recovery: string;
  notes: string;
  file: string;
  /** Not run per broker (no `-t <broker>` filter). */
  allBrokers?: boolean;
}

const n = (value: unknown): string => (typeof value === 'number' ? value.toLocaleString('en') : String(value ?? '–'));
const ms = (value: unknown): string => (typeof value === 'number' ? `${n(Math.round(value))} ms` : '–');
const list = (values: unknown): string => (Array.isArray(values) ? values.map(ms).join(', ') : ms(values));
const peakRss = (f: Obj): string => {
  const values = Object.values((f.peakRssMb as Obj | undefined) ?? {}).filter((v): v is number => typeof v === 'number');
  return values.length ? `peak RSS ≤ ${Math.max(...values)} MB` : '';
};

/** One table row per scenario; what each scenario's figures mean is read here. */
const rows: Record<string, (f: Obj) => Row> = {
  'worker-sigkill': (f) => ({
    what: `SIGKILL a worker ${n(f.kills)}× during ${n(f.tasks)} short tasks (${n(f.workers)} workers × ${n(f.concurrency)}, ${ms(f.leaseMs)} leases)`,
    tasks: n(f.tasks),
    lost: n(f.lost),
    duplicates: `${n(f.duplicates)} (bound: ${n((f.leasedAtKill as number[]).reduce((a, b) => a + b, 0))} leased at the kills; outside it ${n(f.duplicatesOutsideKilledLeases)})`,
    recovery: list(f.recoveryMs),
    notes: peakRss(f),
    file: 'worker-sigkill.test.ts',
  }),
  'broker-restart': (f) => ({
    what: `${String(f.crashed)}; ${String(f.durability)}; down ${ms(f.downMs)}`,
    tasks: n(f.tasks),
    lost: `${n(f.lost)} of ${n(f.ackedBeforeCrash)} acknowledged before the crash`,
    duplicates: n(f.duplicates),
    recovery: `restart ${ms((f.recoveryMs as Obj).restartTook)}, then producer ${ms((f.recoveryMs as Obj).producer)}, worker ${ms((f.recoveryMs as Obj).worker)}, web ${ms((f.recoveryMs as Obj).web)}`,
    notes: `integrity_check: ${String((f.integrity as Obj).atEnd).split(' ')[0]}`,
    file: 'broker-restart.test.ts',
  }),
  'broker-stall': (f) => ({
    what: `${String(f.stall)} (${ms(f.stallMs)}, leases ${ms(f.leaseMs)}) during ${n(f.tasks)} tasks`,
    tasks: n(f.tasks),
    lost: n(f.lost),
    duplicates: `${n(f.duplicates)} (of ${n(f.leasedAtStall)} leased at the stall)`,
    recovery: `first run after ${ms((f.recoveryMs as Obj).firstRunAfterStall)}`,
    notes: `${n(f.workersAlive)} workers alive`,
    file: 'broker-stall.test.ts',
  }),
  'busy-loop': (f) => ({
    what: `a handler blocks the event loop ${ms(f.blockMs)} with ${ms(f.leaseMs)} leases, 2 workers`,
    tasks: n(f.tasks),
    lost: '0',
    duplicates: `${n(f.duplicates)} (${n(f.runs)} run, ${String(f.state)})`,
    recovery: '–',
    notes: `finished after ${ms(f.finishedAfterMs)}`,
    file: 'busy-loop.test.ts',
  }),
  'busy-loop-control': (f) => ({
    what: 'the same with leaseThread: false (renewal on the blocked loop), as a control',
    tasks: n(f.tasks),
    lost: '0',
    duplicates: `${n(f.duplicates)} (${n(f.runs)} runs: the fault the lease thread fixes)`,
    recovery: '–',
    notes: `ended ${String(f.state)}`,
    file: 'busy-loop.test.ts',
  }),
  load: (f) => {
    const write = f.writeLatency as Record<string, Obj>;
    const status = f.status as Obj;
    return {
      what: `${n(f.tasks)} tasks, ${n(f.workers)} workers × ${n(f.concurrency)}, status polled meanwhile; results expire after ${ms(f.resultTtlMs)}, then deleted`,
      tasks: n(f.tasks),
      lost: n(f.lost),
      duplicates: '–',
      recovery: '–',
      notes:
        `${n(f.throughputPerSec)} tasks/s; status p99 ${ms(status.p99Ms)} over ${n(status.requests)} requests; ${peakRss(f)}; ` +
        `${n((f.deletion as Obj).deleted)} deleted in ${ms((f.deletion as Obj).ms)}, longest other write meanwhile ${ms(write.duringDeletion!.maxMs)}`,
      file: 'load.test.ts',
    };
  },
  'push-churn-cold': (f) => pushRow('cold', f),
  'push-churn-warm': (f) => pushRow('warm', f),
  'broker-garbage': (f) => ({
    what: `${n(f.garbageKinds)} kinds of garbage records written into the broker for ${ms(f.producedForMs)} beside good tasks`,
    tasks: `${n(f.good)} good, ${n(f.garbage)} garbage`,
    lost: n((f.good as number) - (f.goodSucceeded as number)),
    duplicates: n(f.goodRedelivered),
    recovery: `longest gap between good tasks ${ms(f.longestGapMs)}`,
    notes: `${n(f.deadLettered)} dead letters, ${n(f.failureOnly)} read as FAILURE, ${n(f.workerErrors)} worker errors`,
    file: 'broker-garbage.test.ts',
  }),
  'hostile-input': (f) => ({
    what: `property-based fuzzing (fast-check) of the reference app: ${Object.entries(f.cases as Obj)
      .map(([kind, count]) => `${n(count)} ${kind}`)
      .join(', ')}`,
    tasks: '–',
    lost: '–',
    duplicates: '–',
    recovery: '–',
    notes: `${n(f.total)} cases; no 5xx, no crash, no reflected header; the server still pushes state`,
    file: 'hostile-input.test.ts',
    allBrokers: true,
  }),
};

function pushRow(phase: string, f: Obj): Row {
  const latency = f.latencyMs as Obj;
  return {
    what: `${n(f.subscribers)} WebSocket subscribers on a ${phase} web process while their tasks finish`,
    tasks: n(f.subscribers),
    lost: `${n(f.withoutTerminal)} without their terminal state`,
    duplicates: `${n(f.messagesAfterTerminal)} messages after the terminal one`,
    recovery: '–',
    notes: `finish → client p50 ${ms(latency.p50)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)}; ${n(f.deliveredThenClosed1000)} closed 1000`,
    file: 'push-churn.test.ts',
  };
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

function table(entries: Figures[]): string {
  const header = [
    '| Scenario | Broker | What was done | Tasks | Lost | Duplicates | Recovery | Other figures | Reproduce |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const lines = entries.map((f) => {
    const scenario = f.scenario.startsWith('broker-restart') ? 'broker-restart' : f.scenario;
    const make = rows[scenario];
    if (!make) throw new Error(`no row for scenario ${f.scenario}`);
    const r = make(f);
    const command = `npx vitest run --config vitest.chaos.config.ts test/chaos/${r.file}${r.allBrokers ? '' : ` -t ${f.broker}`}`;
    return `| ${[f.scenario, f.broker, r.what, r.tasks, r.lost, r.duplicates, r.recovery, r.notes, `\`${command}\``].map(cell).join(' | ')} |`;
  });
  return [...header, ...lines].join('\n');
}

const all = readFileSync(FIGURES, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as Figures);
if (all.length === 0) throw new Error(`${FIGURES} is empty: run npm run test:chaos first`);
const run = all.at(-1)!.run;
const entries = all.filter((f) => f.run === run);
const doc = readFileSync(DOC, 'utf8');
const begin = doc.indexOf(BEGIN);
const end = doc.indexOf(END);
if (begin < 0 || end < begin) throw new Error(`${DOC} has no ${BEGIN} … ${END} markers`);
const stamp = `Figures of the run of ${run} (${entries.length} scenarios × brokers, ${process.platform}, Node ${process.version}).`;
writeFileSync(DOC, `${doc.slice(0, begin + BEGIN.length)}\n${stamp}\n\n${table(entries)}\n${doc.slice(end)}`);
console.log(`docs/reliability.md: ${entries.length} rows from the run of ${run}`);
