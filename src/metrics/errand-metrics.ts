import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Errand } from '../core/errand.js';
import { ConfigError } from '../core/errors.js';
import type { AttemptResult } from '../core/instrumentation.js';
import { processStats } from '../core/process-stats.js';

export interface ErrandMetricsOptions {
  /** Where the metrics are registered (default: a new Registry; pass prom-client's `register` to share the default one). */
  registry?: Registry;
  /** Prefix of every metric name (default 'errand_'). */
  prefix?: string;
  /** Queues whose depth is sampled at each scrape (default: the queues of the app's registered tasks). */
  queues?: readonly string[];
  /** Histogram buckets in seconds for waiting and running times. */
  buckets?: number[];
}

export interface ErrandMetrics {
  readonly registry: Registry;
  /** The metrics in Prometheus text format, and the content type to send them with. */
  render(): Promise<{ contentType: string; body: string }>;
  /** Stops recording (the metrics stay registered). */
  stop(): void;
}

const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

interface Series {
  attempt: { inc(): void };
  run?: { observe(value: number): void };
  wait: { observe(value: number): void };
  finished?: { inc(): void };
  retry?: { inc(): void };
  dead?: { inc(): void };
}

/** Attempt results that end the task, and the state it ends in. */
const FINAL: Partial<Record<AttemptResult, string>> = {
  success: 'SUCCESS',
  failure: 'FAILURE',
  dead_letter: 'FAILURE',
  revoked: 'REVOKED',
};

/**
 * Prometheus metrics of one app's process (prom-client): what it enqueued
 * and what its workers ran, and at each scrape the depth of its queues and
 * its active workers. Each process exposes its own; Prometheus sums them.
 */
export function errandMetrics(app: Errand, options: ErrandMetricsOptions = {}): ErrandMetrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'errand_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))
    throw new ConfigError(`metrics prefix "${prefix}" is not a valid metric name start`);
  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  const labels = ['task', 'queue'] as const;
  const enqueued = new Counter({
    name: `${prefix}tasks_enqueued_total`,
    help: 'Tasks this process enqueued',
    labelNames: labels,
    registers: [registry],
  });
  const attempts = new Counter({
    name: `${prefix}task_attempts_total`,
    help: 'Attempts this process ran, by how they ended (success, failure, retry, dead_letter, revoked, released, lost)',
    labelNames: [...labels, 'result'],
    registers: [registry],
  });
  const finished = new Counter({
    name: `${prefix}tasks_finished_total`,
    help: 'Tasks whose final state this process recorded',
    labelNames: [...labels, 'state'],
    registers: [registry],
  });
  const retries = new Counter({
    name: `${prefix}task_retries_total`,
    help: 'Retries scheduled',
    labelNames: labels,
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: `${prefix}dead_letters_total`,
    help: 'Messages dead-lettered (undecodable, or naming an unknown task)',
    labelNames: ['queue'],
    registers: [registry],
  });
  const waiting = new Histogram({
    name: `${prefix}task_wait_seconds`,
    help: 'Time from enqueue (first attempt) to the start of the attempt',
    labelNames: labels,
    buckets,
    registers: [registry],
  });
  const running = new Histogram({
    name: `${prefix}task_run_seconds`,
    help: 'Time the handler ran, per attempt',
    labelNames: [...labels, 'result'],
    buckets,
    registers: [registry],
  });
  const queues = options.queues;
  new Gauge({
    name: `${prefix}queue_depth`,
    help: 'Tasks waiting in the queue (PENDING or RETRY, due or not), sampled at scrape',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues ?? app.queueNames) {
        try {
          this.set({ queue }, await app.backend.countWaiting(queue));
        } catch {
          // a broker that cannot answer now: the queue is left out of this scrape
        }
      }
    },
  });
  new Gauge({
    name: `${prefix}workers_active`,
    help: 'Workers of this process that are running',
    registers: [registry],
    collect() {
      this.set(app.activeWorkers);
    },
  });
  new Gauge({
    name: `${prefix}status_subscribers`,
    help: 'Open status subscriptions of this process (SSE streams and WebSockets)',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      for (const transport of ['sse', 'ws'] as const) this.set({ transport }, processStats.statusSubscribers[transport]);
    },
  });
  new Counter({
    name: `${prefix}status_polls_total`,
    help: 'Status poll requests this process answered',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(processStats.statusPolls);
    },
  });
  new Counter({
    name: `${prefix}channel_messages_total`,
    help: 'Channel-layer messages of this process: sent (send, groupSend) and delivered to its own channels',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ direction: 'sent' }, processStats.channelSent);
      this.inc({ direction: 'delivered' }, processStats.channelDelivered);
    },
  });

  // Labelled children are cached per task, queue and result: prom-client hashes the label set on every call otherwise.
  const children = new Map<string, Series>();
  const series = (task: string, queue: string, result: AttemptResult): Series => {
    const key = `${task}\u0000${queue}\u0000${result}`;
    let found = children.get(key);
    if (!found) {
      const base = { task, queue };
      const state = FINAL[result];
      found = {
        attempt: attempts.labels({ ...base, result }),
        run: result === 'dead_letter' ? undefined : running.labels({ ...base, result }),
        wait: waiting.labels(base),
        finished: state === undefined ? undefined : finished.labels({ ...base, state }),
        retry: result === 'retry' ? retries.labels(base) : undefined,
        dead: result === 'dead_letter' ? deadLetters.labels({ queue }) : undefined,
      };
      children.set(key, found);
    }
    return found;
  };
  const enqueuedSeries = new Map<string, { inc(): void }>();

  const stop = app.instrument({
    enqueue(task) {
      const key = `${task.name}\u0000${task.queue}`;
      let child = enqueuedSeries.get(key);
      if (!child) enqueuedSeries.set(key, (child = enqueued.labels({ task: task.name, queue: task.queue })));
      const counter = child;
      return { end: (error) => void (error === undefined && counter.inc()) };
    },
    attempted(task, end) {
      const s = series(task.name, task.queue, end.result);
      s.attempt.inc();
      s.run?.observe(end.durationMs / 1000);
      if (task.attempt === 1) s.wait.observe(Math.max(0, end.startedAt - task.enqueuedAt) / 1000);
      s.finished?.inc();
      s.retry?.inc();
      s.dead?.inc();
    },
  });

  return {
    registry,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    stop,
  };
}
