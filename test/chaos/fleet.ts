// The processes a scenario runs: workers, producers and the reference app's
// web process, each a child started with `node --import tsx`, plus a status
// poll loop that plays the browsers.
import { randomUUID } from 'node:crypto';
import type { ChaosNamespace } from './brokers.js';
import { quantile, sleep, startNode, type ChaosProcess, type MemoryMonitor } from './harness.js';

export interface WorkerSettings {
  name: string;
  recordDir?: string;
  concurrency?: number;
  leaseMs?: number;
  rescueMs?: number;
  claimWaitMs?: number;
  resultTtlMs?: number;
  pruneMs?: number;
  /** false: renew leases on the event loop (the worker option leaseThread). */
  leaseThread?: boolean;
  /** Start the process but not the worker: it waits for SIGUSR2 (then prints `ready`). */
  gated?: boolean;
}

/** test/fixtures/chaos/worker.ts; resolves once it claims, with its worker id (the lease owner). */
export async function startWorker(
  ns: ChaosNamespace,
  settings: WorkerSettings,
  memory?: MemoryMonitor,
): Promise<{ proc: ChaosProcess; id: string }> {
  const id = `chaos-${settings.name}-${randomUUID().slice(0, 6)}`;
  const env: Record<string, string> = { BROKER_URL: ns.url, WORKER_ID: id, RECORD_DIR: settings.recordDir ?? '' };
  const put = (key: string, value: number | undefined): void => {
    if (value !== undefined) env[key] = String(value);
  };
  put('CONCURRENCY', settings.concurrency);
  put('LEASE_MS', settings.leaseMs);
  put('RESCUE_MS', settings.rescueMs);
  put('CLAIM_WAIT_MS', settings.claimWaitMs);
  put('RESULT_TTL_MS', settings.resultTtlMs);
  put('PRUNE_MS', settings.pruneMs);
  if (settings.leaseThread === false) env.LEASE_THREAD = 'false';
  if (settings.gated) env.GATE = '1';
  const { proc } = await startNode(settings.name, 'test/fixtures/chaos/worker.ts', env, settings.gated ? /^gated/ : 'ready');
  memory?.watch(settings.name, proc.pid);
  return { proc, id };
}

export interface ProducerSettings {
  name?: string;
  ackDir: string;
  mode: 'bulk' | 'stream';
  count: number;
  task: 'work' | 'noop';
  /** work's argument: 'N' or 'MIN-MAX'. */
  taskMs?: string;
  batch?: number;
  loops?: number;
  pauseMs?: number;
}

/** test/fixtures/chaos/producer.ts; resolves once it is connected and enqueuing. */
export async function startProducer(
  ns: ChaosNamespace,
  settings: ProducerSettings,
  memory?: MemoryMonitor,
): Promise<ChaosProcess> {
  const name = settings.name ?? 'producer';
  const { proc } = await startNode(name, 'test/fixtures/chaos/producer.ts', {
    BROKER_URL: ns.url,
    ACK_DIR: settings.ackDir,
    MODE: settings.mode,
    COUNT: String(settings.count),
    TASK: settings.task,
    TASK_MS: settings.taskMs ?? '0',
    BATCH: String(settings.batch ?? 1000),
    LOOPS: String(settings.loops ?? 4),
    PAUSE_MS: String(settings.pauseMs ?? 5),
  });
  memory?.watch(name, proc.pid);
  return proc;
}

/** The reference app's web process (app/web-main.ts) on the namespace's broker, on a port the OS picks. */
export async function startWeb(
  ns: ChaosNamespace,
  name = 'web',
  memory?: MemoryMonitor,
): Promise<{ proc: ChaosProcess; base: string; readyAt: number }> {
  const { proc, readyLine } = await startNode(
    name,
    'app/web-main.ts',
    { HOST: '127.0.0.1', PORT: '0', ERRAND_BROKER: ns.url, LOG_LEVEL: 'warn', DEMO_API_DELAY_MS: '0' },
    /listening on http:\/\/127\.0\.0\.1:\d+/,
  );
  const readyAt = Date.now();
  memory?.watch(name, proc.pid);
  const base = /(http:\/\/127\.0\.0\.1:\d+)/.exec(readyLine)![1]!;
  return { proc, base, readyAt };
}

export interface PollSample {
  at: number;
  /** HTTP status, or 0 when the request failed (connection refused, timeout). */
  status: number;
  ms: number;
}

/**
 * GET {base}/task_status/?task_id=<id> in `loops` parallel loops, for ids
 * picked by `pickId`, until stop(). Bounded: each request times out after 5 s.
 */
export class StatusPoller {
  readonly samples: PollSample[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly base: () => string | undefined,
    private readonly pickId: () => string | undefined,
    loops = 4,
    private readonly pauseMs = 5,
  ) {
    this.loops = Array.from({ length: loops }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const base = this.base();
      const id = this.pickId();
      if (!base || !id) {
        await sleep(20);
        continue;
      }
      const t0 = performance.now();
      let status: number;
      try {
        const res = await fetch(`${base}/task_status/?task_id=${id}`, { signal: AbortSignal.timeout(5000) });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = 0; // no answer: refused, reset or timed out
      }
      this.samples.push({ at: Date.now(), status, ms: performance.now() - t0 });
      if (this.pauseMs > 0) await sleep(this.pauseMs);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Responses per status ('0' = no answer), optionally in [from, to). */
  counts(from = 0, to = Infinity): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.samples) if (s.at >= from && s.at < to) out[s.status] = (out[s.status] ?? 0) + 1;
    return out;
  }

  /** When the first 200 at or after `t` came back. */
  firstOkAfter(t: number): number | undefined {
    return this.samples.find((s) => s.at >= t && s.status === 200)?.at;
  }

  latency(): { requests: number; p50Ms: number; p99Ms: number; maxMs: number } {
    const ms = this.samples.filter((s) => s.status !== 0).map((s) => s.ms);
    const round = (x: number): number => Math.round(x * 10) / 10;
    return {
      requests: this.samples.length,
      p50Ms: round(quantile(ms, 0.5)),
      p99Ms: round(quantile(ms, 0.99)),
      maxMs: round(Math.max(0, ...ms)),
    };
  }
}
