/**
 * Workload 1: task finished → client informed, over WebSocket, SSE and 1 s
 * polling, with the web server and the worker in separate processes.
 *
 * WS/SSE: one sample at a time. The bench enqueues a gated task, opens the
 * watcher, waits until the watcher shows the task STARTED (so the push path
 * is in place), then (after a random 0–10 ms) releases the task in the worker over IPC; the handler
 * returns clock() as its last act. Latency = receipt of the terminal message
 * − that finish time (clock offset between the processes corrected).
 *
 * Poll: the seeds' loop (GET now, then every 1000 ms). Each task sleeps
 * 20 + U(0, 1000) ms so that finishing falls at a random phase of the poll
 * period; 20 watchers run side by side to keep the run short.
 */
import { mkdir } from 'node:fs/promises';
import { createApp } from '../../src/create-app.js';
import { sleep } from '../clock.js';
import { summarize, type Summary } from '../stats.js';
import { TRANSPORTS, watch, within, type Transport } from './clients.js';
import { brokerUrl, BROKERS, SQLITE_DIR, type BrokerKind } from './env.js';
import { startBenchWeb, startBenchWorker, type BenchChild } from './servers.js';
import { defineBenchTasks, type BenchTasks } from './tasks.js';

export interface LatencyRow {
  broker: BrokerKind;
  transport: Transport;
  summary: Summary;
  /** Samples lost to errors or timeouts. */
  failed: number;
}

export interface LatencyOptions {
  quick: boolean;
  log: (line: string) => void;
  brokers?: readonly BrokerKind[];
  /** Default: ws, sse, poll. */
  transports?: readonly Transport[];
}

const POLL_LANES = 20;
const SAMPLE_TIMEOUT_MS = 10_000;
/** A transport stops taking samples after this long, whatever it got (the whole run must end on its own). */
const TRANSPORT_BUDGET_MS = 40_000;

export async function runLatency(options: LatencyOptions): Promise<LatencyRow[]> {
  const samples = options.quick ? 100 : 500;
  const pollSamples = options.quick ? 40 : 200;
  const warmup = options.quick ? 5 : 10;
  const rows: LatencyRow[] = [];
  for (const broker of options.brokers ?? BROKERS) {
    const url = brokerUrl(broker, 'latency');
    if (broker === 'sqlite') await mkdir(SQLITE_DIR, { recursive: true });
    const app = createApp({ broker: url, logger: false });
    const tasks = defineBenchTasks(app);
    let web: BenchChild | undefined;
    let worker: BenchChild | undefined;
    try {
      [web, worker] = await Promise.all([startBenchWeb(url, `web-${broker}`), startBenchWorker(url, `worker-${broker}`, 50)]);
      const offset = await worker.clockOffset();
      const base = web.ready;
      options.log(
        `latency/${broker}: web ${base} pid ${web.pid}, worker pid ${worker.pid}, worker clock offset ${offset.toFixed(3)} ms`,
      );
      for (const transport of options.transports ?? TRANSPORTS) {
        const count = transport === 'poll' ? pollSamples : samples;
        const started = Date.now();
        const { latencies, failed } =
          transport === 'poll'
            ? await pollSamplesRun(base, tasks, count, offset)
            : await pushSamples(transport, base, tasks, worker, warmup, count, offset);
        const summary = summarize(latencies);
        rows.push({ broker, transport, summary, failed });
        options.log(
          `latency/${broker}/${transport}: n=${summary.count} p50=${summary.p50.toFixed(2)} p99=${summary.p99.toFixed(2)} max=${summary.max.toFixed(2)} ms` +
            ` failed=${failed} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );
      }
    } finally {
      await Promise.all([web?.stop(), worker?.stop()]);
      await app.close().catch(() => undefined);
    }
  }
  return rows;
}

/** WS or SSE: sequential samples of gated tasks. */
async function pushSamples(
  transport: Transport,
  base: string,
  tasks: BenchTasks,
  worker: BenchChild,
  warmup: number,
  count: number,
  offset: number,
): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const deadline = Date.now() + TRANSPORT_BUDGET_MS;
  for (let i = 0; i < warmup + count && Date.now() < deadline; i++) {
    const result = await tasks.gated.delay();
    const w = watch(transport, base, result.id);
    try {
      await within(w.running, SAMPLE_TIMEOUT_MS, `${transport} STARTED`);
      // A random pause first: the STARTED message arrived just after the web process's SQLite poll
      // tick (every 5 ms), and releasing at once would phase-lock every finish to that tick.
      await sleep(Math.random() * 10);
      worker.send({ type: 'release', ids: [result.id] });
      const receipt = await within(w.terminal, SAMPLE_TIMEOUT_MS, `${transport} terminal`);
      if (i < warmup) continue;
      const finishedAt = Number(receipt.message.result) - offset;
      if (receipt.message.state !== 'SUCCESS' || !Number.isFinite(finishedAt)) failed++;
      else latencies.push(receipt.at - finishedAt);
    } catch (error) {
      if (process.env.BENCH_DEBUG) process.stderr.write(`sample failed: ${String(error)}\n`);
      worker.send({ type: 'release', ids: [result.id] });
      if (i >= warmup) failed++;
    } finally {
      w.close();
    }
  }
  return { latencies, failed };
}

/** 1 s polling: POLL_LANES watchers side by side, each task finishing at a random phase. */
async function pollSamplesRun(
  base: string,
  tasks: BenchTasks,
  count: number,
  offset: number,
): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const deadline = Date.now() + TRANSPORT_BUDGET_MS;
  await Promise.all(
    Array.from({ length: POLL_LANES }, async () => {
      while (next < count && Date.now() < deadline) {
        next++;
        const result = await tasks.sleep.delay(20 + Math.random() * 1000);
        const w = watch('poll', base, result.id);
        try {
          const receipt = await within(w.terminal, SAMPLE_TIMEOUT_MS, 'poll terminal');
          const finishedAt = Number(receipt.message.result) - offset;
          if (receipt.message.state !== 'SUCCESS' || !Number.isFinite(finishedAt)) failed++;
          else latencies.push(receipt.at - finishedAt);
        } catch {
          failed++;
        } finally {
          w.close();
        }
      }
    }),
  );
  return { latencies, failed };
}
