/**
 * Webhooks under load: the reference app's POST /webhook_test/ (verifies, then
 * awaits the 5 s provider call in the request) against /webhook_test_async/
 * (verifies, enqueues, answers 202), 50 connections, every delivery signed
 * with its own webhook-id so none is a replay. Web and worker are separate
 * processes on the broker, as `npm start` runs them. The app answers 429
 * once 10,000 tasks wait (its maxQueueDepth): those are the non-2xx.
 *
 *   npx tsx bench/status/webhook-load.ts [--quick] [--broker=sqlite|redis]
 */
import { mkdir, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { standardWebhookHeaders } from '../../src/webhooks/index.js';
import { brokerUrl, HOST, SQLITE_DIR, type BrokerKind } from './env.js';
import { freePort, startReferenceWeb, startReferenceWorker, stopAllChildren, type BenchChild } from './servers.js';
import { autocannon, type CannonResult } from './cannon.js';

const SLOW_CALL_MS = 5000;
const CONNECTIONS = 50;
const SECRET = `whsec_${Buffer.from('errand-bench-webhook-secret-0123').toString('base64')}`;

interface CannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A fresh signed delivery per request: autocannon calls this before each one. */
function signed(request: CannonRequest): CannonRequest {
  const body = JSON.stringify({ type: 'subscriber.created', data: { email: 'bench@example.com', username: 'bench' } });
  const headers = standardWebhookHeaders({
    id: `msg_${randomUUID()}`,
    timestamp: Math.floor(Date.now() / 1000),
    body,
    secret: SECRET,
  });
  return { ...request, headers: { ...request.headers, 'content-type': 'application/json', ...headers }, body };
}

async function load(base: string, path: string, seconds: number): Promise<CannonResult> {
  return autocannon({
    url: `${base}${path}`,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 20,
    requests: [{ method: 'POST', setupRequest: signed }],
  });
}

async function main(): Promise<void> {
  const flags = new Map<string, string | undefined>(
    process.argv.slice(2).map((a) => {
      const [name, value] = a.replace(/^--/, '').split('=');
      return [name!, value];
    }),
  );
  for (const name of flags.keys())
    if (!['quick', 'broker'].includes(name)) throw new Error(`unknown flag --${name} (known: quick, broker)`);
  const broker = (flags.get('broker') ?? 'sqlite') as BrokerKind;
  if (broker !== 'sqlite' && broker !== 'redis') throw new Error(`--broker must be sqlite or redis, not ${broker}`);
  const seconds = flags.has('quick') ? 4 : 10;
  await mkdir(SQLITE_DIR, { recursive: true });
  const env = {
    HOST,
    PORT: String(await freePort()),
    ERRAND_BROKER: brokerUrl(broker, 'webhooks'),
    DEMO_API_DELAY_MS: String(SLOW_CALL_MS),
    DEMO_API_FAILURE_RATE: '0',
    WEBHOOK_SECRET: SECRET,
  };
  let web: BenchChild | undefined;
  try {
    web = await startReferenceWeb(env, `webhook-web-${broker}`);
    await startReferenceWorker(env, `webhook-worker-${broker}`);
    const base = web.ready;
    const { headers, body } = signed({ method: 'POST', path: '', headers: {}, body: '' });
    const probe = await fetch(`${base}/webhook_test_async/`, { method: 'POST', headers, body });
    if (probe.status !== 202) throw new Error(`POST /webhook_test_async/ answered ${probe.status}: ${await probe.text()}`);
    await load(base, '/webhook_test_async/', 1); // warm-up, not reported
    const rows = [
      ['async: verify, enqueue, 202', await load(base, '/webhook_test_async/', seconds)],
      // at least two rounds of the slow call
      ['inline: verify, await the 5 s call', await load(base, '/webhook_test/', Math.max(seconds, 11))],
    ] as const;
    process.stdout.write(`webhooks on ${broker}, ${CONNECTIONS} connections, provider call ${SLOW_CALL_MS} ms\n`);
    process.stdout.write('route                                 req/s    p50 ms    p99 ms  2xx      non2xx  errors\n');
    for (const [name, r] of rows) {
      process.stdout.write(
        `${name.padEnd(36)} ${r.requests.average.toFixed(1).padStart(7)} ${String(r.latency.p50).padStart(9)} ${String(r.latency.p99).padStart(9)}  ${String(r['2xx']).padEnd(8)} ${String(r.non2xx).padEnd(7)} ${r.errors + r.timeouts}\n`,
      );
    }
  } finally {
    await stopAllChildren(3000);
    await rm(SQLITE_DIR, { recursive: true, force: true });
  }
}

await main();
