/**
 * Workload 2: POST /form/ under load (autocannon, 50 connections), with the
 * reference app's web process and worker on a broker while 5 s tasks pile up
 * (DEMO_API_DELAY_MS=5000, the worker runs 10 at once), against a Fastify
 * handler that awaits the 5 s call inline.
 */
import { mkdir } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { clock, sleepUntil } from '../clock.js';
import { summarize } from '../stats.js';
import { brokerUrl, HOST, REDIS_DB, REDIS_PORT, redisReadyKey, SQLITE_DIR, type BrokerKind } from './env.js';
import { BenchChild, freePort, startReferenceWeb, startReferenceWorker } from './servers.js';
import { autocannon, type CannonResult } from './cannon.js';

const SLOW_CALL_MS = 5000;
const CONNECTIONS = 50;
/** The fixed rate of the paced run: well under what the web process can take. */
const PACED_RATE = 200;
const BODY = 'email=a%40example.com&username=bench';

export interface FormRow {
  server: string;
  mode: string;
  reqPerSec: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
  /** Tasks still waiting in the queue when the load stopped (errand only). */
  queued?: number;
  /** Tasks the worker had started or finished by then (errand only). */
  taken?: number;
}

export interface FormOptions {
  quick: boolean;
  log: (line: string) => void;
  brokers: readonly BrokerKind[];
  /** Extra node flags for the reference web process (e.g. --cpu-prof). */
  webNodeFlags?: string[];
}

export async function runFormLoad(options: FormOptions): Promise<FormRow[]> {
  const seconds = options.quick ? 4 : 10;
  const rows: FormRow[] = [];
  for (const broker of options.brokers) rows.push(...(await errandSide(broker, seconds, options)));
  rows.push(await inlineSide(seconds, options));
  return rows;
}

async function errandSide(broker: BrokerKind, seconds: number, options: FormOptions): Promise<FormRow[]> {
  const url = brokerUrl(broker, 'form');
  if (broker === 'sqlite') await mkdir(SQLITE_DIR, { recursive: true });
  const port = await freePort();
  const env = {
    HOST,
    PORT: String(port),
    ERRAND_BROKER: url,
    DEMO_API_DELAY_MS: String(SLOW_CALL_MS),
    DEMO_API_FAILURE_RATE: '0',
  };
  let web: BenchChild | undefined;
  let worker: BenchChild | undefined;
  try {
    web = await startReferenceWeb(env, `ref-web-${broker}`, options.webNodeFlags);
    worker = await startReferenceWorker(env, `ref-worker-${broker}`);
    const base = web.ready;
    const page = await fetch(`${base}/form/`);
    const token = /csrftoken=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1];
    if (!page.ok || !token) throw new Error(`GET /form/ gave no csrftoken cookie (HTTP ${page.status})`);
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `csrftoken=${token}`,
      'x-csrftoken': token,
    };
    // One request by hand first: a 403/400 here would make the load run meaningless.
    const probe = await fetch(`${base}/form/`, { method: 'POST', headers, body: BODY });
    if (!probe.ok) throw new Error(`POST /form/ answered HTTP ${probe.status}: ${await probe.text()}`);
    const target = { url: `${base}/form/`, method: 'POST', headers, body: BODY, connections: CONNECTIONS, timeout: 20 };
    await autocannon({ ...target, duration: 1 }); // warm-up (JIT, connection pools), not reported
    const rssBefore = web.rssBytes();
    const saturated = await autocannon({ ...target, duration: seconds });
    const afterSaturation = await countTasks(broker, url);
    // Evenly spaced requests with the backlog above still queued: the latency a user sees when the
    // web process is not saturated. (autocannon's overallRate fires each connection's quota in a burst
    // at the top of every second, which measures burst queueing instead.)
    const paced = await pacedLoad(`${base}/form/`, headers, PACED_RATE, Math.ceil(seconds / 2));
    const afterPaced = await countTasks(broker, url);
    const server = `errand reference app, ${broker}`;
    const rows: FormRow[] = [
      {
        server,
        mode: `saturating (${CONNECTIONS} conns, ${seconds} s)`,
        ...fromCannon(saturated),
        queued: afterSaturation.queued,
        taken: afterSaturation.taken,
      },
      {
        server,
        mode: `paced: ${PACED_RATE} req/s evenly spaced (${Math.ceil(seconds / 2)} s)`,
        ...paced,
        queued: afterPaced.queued,
        taken: afterPaced.taken,
      },
    ];
    for (const row of rows) {
      options.log(
        `form/${broker}/${row.mode}: ${row.reqPerSec.toFixed(0)} req/s p50=${row.p50} p99=${row.p99} max=${row.max} ms ok=${row.ok} non2xx=${row.non2xx}` +
          ` errors=${row.errors} queued=${row.queued} taken=${row.taken}`,
      );
    }
    options.log(`form/${broker}: web RSS ${mb(rssBefore)} → ${mb(web.rssBytes())} MB`);
    return rows;
  } finally {
    // The reference worker waits up to 10 s for running tasks on SIGTERM: not worth waiting for here.
    await Promise.all([web?.stop(3000), worker?.stop(1500)]);
  }
}

async function inlineSide(seconds: number, options: FormOptions): Promise<FormRow> {
  const server = await BenchChild.start({
    label: 'inline-web',
    script: 'bench/status/inline-child.ts',
    env: { DEMO_API_DELAY_MS: String(SLOW_CALL_MS) },
    readyPattern: /bench inline listening on (http:\/\/\S+)/,
  });
  try {
    // As long as the errand run, and at least two rounds of the slow call.
    const duration = Math.max(seconds, 2 * (SLOW_CALL_MS / 1000) + 1);
    const result = await autocannon({
      url: `${server.ready}/form/`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: BODY,
      connections: CONNECTIONS,
      duration,
      timeout: 20,
    });
    const row: FormRow = {
      server: 'inline: handler awaits the 5 s call',
      mode: `saturating (${CONNECTIONS} conns, ${duration} s)`,
      ...fromCannon(result),
    };
    options.log(`form/inline: ${row.reqPerSec.toFixed(1)} req/s p50=${row.p50} p99=${row.p99} ms ok=${row.ok} (${duration} s)`);
    return row;
  } finally {
    await server.stop(2000);
  }
}

/**
 * An open-loop load: one POST every 1000/rate ms on a fixed schedule, over
 * keep-alive connections (fetch's pool). Latency counts from the scheduled
 * send time, so a stall is not hidden by requests that were never sent.
 */
async function pacedLoad(
  url: string,
  headers: Record<string, string>,
  rate: number,
  seconds: number,
): Promise<Pick<FormRow, 'reqPerSec' | 'ok' | 'non2xx' | 'errors' | 'p50' | 'p99' | 'max'>> {
  const total = rate * seconds;
  const gap = 1000 / rate;
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const inFlight: Array<Promise<void>> = [];
  const start = clock();
  for (let k = 0; k < total; k++) {
    const due = start + k * gap;
    await sleepUntil(due);
    inFlight.push(
      fetch(url, { method: 'POST', headers, body: BODY, signal: AbortSignal.timeout(20_000) }).then(
        async (response) => {
          await response.arrayBuffer();
          latencies.push(clock() - due);
          if (response.ok) ok++;
          else non2xx++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(inFlight);
  const s = summarize(latencies);
  return {
    reqPerSec: latencies.length / ((clock() - start) / 1000),
    ok,
    non2xx,
    errors,
    p50: round(s.p50),
    p99: round(s.p99),
    max: round(s.max),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function fromCannon(result: CannonResult): Pick<FormRow, 'reqPerSec' | 'ok' | 'non2xx' | 'errors' | 'p50' | 'p99' | 'max'> {
  return {
    reqPerSec: result.requests.total / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
  };
}

/** Tasks waiting in the queue, and tasks a worker took, read straight from the broker's storage. */
async function countTasks(broker: BrokerKind, url: string): Promise<{ queued: number; taken: number }> {
  if (broker === 'sqlite') {
    const db = new Database(url.slice('sqlite://'.length), { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const rows = db.prepare('SELECT state, count(*) AS n FROM tasks GROUP BY state').all() as Array<{
        state: string;
        n: number;
      }>;
      const queued = rows.filter((r) => r.state === 'PENDING').reduce((s, r) => s + r.n, 0);
      const all = rows.reduce((s, r) => s + r.n, 0);
      return { queued, taken: all - queued };
    } finally {
      db.close();
    }
  }
  const redis = new Redis({ host: HOST, port: REDIS_PORT, db: REDIS_DB, lazyConnect: true });
  try {
    await redis.connect();
    const key = redisReadyKey('form');
    const type = await redis.type(key);
    const queued = type === 'zset' ? await redis.zcard(key) : type === 'list' ? await redis.llen(key) : 0;
    const tasks = await countKeys(redis, `{${key.slice(1, key.indexOf('}'))}}:t:*`);
    return { queued, taken: tasks - queued };
  } finally {
    redis.disconnect();
  }
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
