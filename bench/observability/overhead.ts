/**
 * What metrics and tracing cost a worker: CPU time per task (user + system,
 * this process) for no-op tasks on the memory broker, with neither, with
 * errand/metrics, with errand/tracing (an SDK tracer provider whose spans
 * go to a no-op exporter), and with both; and without the worker's
 * dashboard reports (worker({ report: false })). Rounds are interleaved, so load
 * from the shared machine falls on every variant alike; medians are shown.
 *
 *   npx tsx bench/observability/overhead.ts [--tasks=20000] [--rounds=5]
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createApp } from '../../src/index.js';
import { errandMetrics } from '../../src/metrics/index.js';
import { errandTracing } from '../../src/tracing/index.js';

// 'unreported': the worker's reports to the dashboard (heartbeat, history, attempts) off
type Variant = 'plain' | 'unreported' | 'metrics' | 'tracing' | 'both';
const VARIANTS: Variant[] = ['plain', 'unreported', 'metrics', 'tracing', 'both'];

const flag = (name: string, fallback: number): number => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const n = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a whole number >= 1`);
  return n;
};
const TASKS = flag('tasks', 20_000);
const ROUNDS = flag('rounds', 5);

const discard: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(discard)] }).getTracer('bench');
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

async function round(variant: Variant): Promise<number> {
  const app = createApp({ broker: 'memory://', logger: false });
  const noop = app.task('bench.noop', () => 1);
  if (variant === 'metrics' || variant === 'both') errandMetrics(app);
  if (variant === 'tracing' || variant === 'both') errandTracing(app, { tracer });
  const worker = app.worker({ handleSignals: false, concurrency: 50, claimWaitMs: 10, report: variant !== 'unreported' });
  await worker.start();
  const before = process.cpuUsage();
  const results = [];
  for (let i = 0; i < TASKS; i += 1000) {
    results.push(...(await Promise.all(Array.from({ length: Math.min(1000, TASKS - i) }, () => noop.delay()))));
  }
  await Promise.all(results.map((r) => r.get({ timeout: 60_000 })));
  const used = process.cpuUsage(before);
  await app.close();
  return (used.user + used.system) / TASKS; // µs per task
}

const samples: Record<Variant, number[]> = { plain: [], unreported: [], metrics: [], tracing: [], both: [] };
for (let r = 0; r < ROUNDS; r++) for (const v of VARIANTS) samples[v].push(await round(v));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(samples.plain);
console.log(`CPU per task (enqueue + run, memory broker, ${TASKS} tasks × ${ROUNDS} interleaved rounds, median):`);
for (const v of VARIANTS) {
  const m = median(samples[v]);
  console.log(`  ${v.padEnd(8)} ${m.toFixed(1)} µs  (${(m / base).toFixed(2)}x)`);
}
