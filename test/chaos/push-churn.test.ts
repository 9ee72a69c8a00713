// Scenario 6: 1,000 WebSocket subscribers on the reference app's
// /ws/task_status/<id>/, one per task, while those tasks finish as the
// subscribers connect: first on a COLD web process (the sockets open within
// milliseconds of its "listening" line), then on the same process once WARM.
// Every subscriber must get its terminal state (SUCCESS) and then a close 1000.
// Delivery latency: from the later of "task finished" and "socket opening" to
// the terminal message; anything over 1 s is counted.
import { expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApp, type Errand } from '../../src/index.js';
import { describeChaos, type ChaosNamespace } from './brokers.js';
import { startProducer, startWeb, startWorker } from './fleet.js';
import { MemoryMonitor, onCleanup, quantile, readLines, reportFigures, sleep, tempDir, type ChaosProcess } from './harness.js';

const SUBSCRIBERS = 1000;
/** Each task sleeps a random 0–2500 ms: some finish at once, the rest over the next seconds. */
const TASK_MS = '0-2500';
const WORKER_CONCURRENCY = 150;
/** Sockets are opened BURST at a time, one burst every BURST_GAP_MS: 1,000 over about 2 s, while tasks finish. */
const BURST = 25;
const BURST_GAP_MS = 50;
const SOCKET_TIMEOUT_MS = 20_000;

interface Subscriber {
  id: string;
  connectAt: number;
  openAt?: number;
  firstMessageAt?: number;
  terminalAt?: number;
  terminalState?: string;
  closeAt?: number;
  closeCode?: number;
  messages: number;
  /** A message arrived after the terminal one (must not happen). */
  afterTerminal: number;
  error?: string;
}

function subscribe(wsBase: string, id: string): Promise<Subscriber> {
  const s: Subscriber = { id, connectAt: Date.now(), messages: 0, afterTerminal: 0 };
  return new Promise((resolve) => {
    const ws = new WebSocket(`${wsBase}/ws/task_status/${id}/`, { perMessageDeflate: false });
    const timer = setTimeout(() => ws.terminate(), SOCKET_TIMEOUT_MS);
    ws.on('open', () => (s.openAt = Date.now()));
    ws.on('message', (data) => {
      s.messages++;
      s.firstMessageAt ??= Date.now();
      if (s.terminalAt !== undefined) s.afterTerminal++;
      const state = (JSON.parse(String(data)) as { state: string }).state;
      if (state === 'SUCCESS' || state === 'FAILURE' || state === 'REVOKED') {
        s.terminalAt ??= Date.now();
        s.terminalState ??= state;
      }
    });
    ws.on('error', (error) => (s.error ??= error.message));
    ws.on('close', (code) => {
      clearTimeout(timer);
      s.closeAt = Date.now();
      s.closeCode = code;
      resolve(s);
    });
  });
}

/** Opens one socket per id, BURST at a time, without waiting for the previous ones to connect. */
async function subscribeAll(wsBase: string, ids: string[]): Promise<Subscriber[]> {
  const all: Array<Promise<Subscriber>> = [];
  for (let i = 0; i < ids.length; i += BURST) {
    for (const id of ids.slice(i, i + BURST)) all.push(subscribe(wsBase, id));
    await sleep(BURST_GAP_MS);
  }
  return Promise.all(all);
}

function spread(values: number[]): { p50: number; p99: number; max: number } {
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: Math.max(0, ...values) };
}

async function summarize(app: Errand, subscribers: Subscriber[]) {
  const infos = await Promise.all(subscribers.map((s) => app.backend.getInfo(s.id)));
  const latencies: number[] = [];
  let finishedBeforeConnect = 0;
  const closeCodes: Record<string, number> = {};
  subscribers.forEach((s, i) => {
    closeCodes[String(s.closeCode)] = (closeCodes[String(s.closeCode)] ?? 0) + 1;
    const finishedAt = infos[i]?.finishedAt;
    if (finishedAt !== undefined && finishedAt <= s.connectAt) finishedBeforeConnect++;
    if (s.terminalAt !== undefined && finishedAt !== undefined) latencies.push(s.terminalAt - Math.max(finishedAt, s.connectAt));
  });
  const delivered = subscribers.filter(
    (s) => s.terminalState === 'SUCCESS' && s.closeCode === 1000 && s.closeAt! >= s.terminalAt!,
  );
  return {
    subscribers: subscribers.length,
    deliveredThenClosed1000: delivered.length,
    withoutTerminal: subscribers.filter((s) => s.terminalAt === undefined).length,
    messagesAfterTerminal: subscribers.reduce((n, s) => n + s.afterTerminal, 0),
    closeCodes,
    finishedBeforeConnect,
    finishedAfterConnect: subscribers.length - finishedBeforeConnect,
    latencyMs: spread(latencies),
    over1s: latencies.filter((ms) => ms > 1000).length,
    // where the time goes: the handshake, then the first (snapshot) message after it
    handshakeMs: spread(subscribers.map((s) => (s.openAt ?? s.closeAt!) - s.connectAt)),
    firstMessageMs: spread(subscribers.filter((s) => s.openAt && s.firstMessageAt).map((s) => s.firstMessageAt! - s.openAt!)),
    connectSpreadMs: Math.max(...subscribers.map((s) => s.connectAt)) - Math.min(...subscribers.map((s) => s.connectAt)),
    errors: [...new Set(subscribers.map((s) => s.error).filter(Boolean))].slice(0, 5),
  };
}

async function enqueue(ns: ChaosNamespace, name: string, memory: MemoryMonitor): Promise<string[]> {
  const acks = tempDir(`push-${name}`);
  const producer = await startProducer(
    ns,
    { name, ackDir: acks, mode: 'bulk', count: SUBSCRIBERS, batch: 250, task: 'work', taskMs: TASK_MS },
    memory,
  );
  await producer.waitForLine(/^done /, 60_000);
  return readLines(acks, '.ack').map((a) => a.id);
}

describeChaos('push-churn', (broker) => {
  it(`${SUBSCRIBERS} WebSocket subscribers on a cold, then a warm web process each get SUCCESS, then close 1000`, async () => {
    const started = Date.now();
    const ns = await broker.namespace('push');
    const memory = new MemoryMonitor();
    const app = createApp({ broker: ns.url, logger: false });
    onCleanup(() => app.close());

    // COLD: the tasks are enqueued and the worker processes started but held (gated); the moment the
    // web process says it listens, the sockets start opening and the workers start running the tasks,
    // so tasks finish while their subscribers connect, on a process that has served nothing yet.
    const workers: ChaosProcess[] = (
      await Promise.all(
        [1, 2].map((i) =>
          startWorker(ns, { name: `worker-${i}`, concurrency: WORKER_CONCURRENCY, leaseMs: 10_000, gated: true }, memory),
        ),
      )
    ).map((w) => w.proc);
    const coldIds = await enqueue(ns, 'producer-cold', memory);
    const web = await startWeb(ns, 'web', memory);
    const wsBase = web.base.replace(/^http/, 'ws');
    const coldSubscribing = subscribeAll(wsBase, coldIds);
    const firstSocketAfterReadyMs = Date.now() - web.readyAt;
    for (const worker of workers) worker.signal('SIGUSR2');
    const cold = await summarize(app, await coldSubscribing);
    reportFigures('push-churn-cold', broker.name, { phase: 'cold', firstSocketAfterReadyMs, ...cold });

    // WARM: the same web process; the workers run the new tasks as soon as they are enqueued.
    await sleep(500);
    const warmIds = await enqueue(ns, 'producer-warm', memory);
    const warm = await summarize(app, await subscribeAll(wsBase, warmIds));
    const peakRssMb = memory.stop();
    reportFigures('push-churn-warm', broker.name, { phase: 'warm', ...warm, totalMs: Date.now() - started, peakRssMb });

    expect(workers.every((w) => w.alive)).toBe(true);
    for (const phase of [cold, warm]) {
      expect(phase.closeCodes).toEqual({ '1000': SUBSCRIBERS });
      expect(phase.deliveredThenClosed1000).toBe(SUBSCRIBERS);
      expect(phase.messagesAfterTerminal).toBe(0);
    }
    // churn: many tasks finished while their socket was opening or open
    expect(cold.finishedAfterConnect).toBeGreaterThan(SUBSCRIBERS / 10);
    expect(warm.finishedAfterConnect).toBeGreaterThan(SUBSCRIBERS / 10);
  });
});
