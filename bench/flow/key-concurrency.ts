/**
 * Workload 4, errand only: TASKS tasks over 1,000 keys (seeded random
 * draws) with `concurrency: { key, limit: 1 }`, each handler awaiting a 2 ms
 * timer, one worker at concurrency 100, queue pre-filled; on SQLite, Redis
 * and PostgreSQL, each trial on its own file, prefix or schema. The handler
 * counts how many of a key run at once (must never exceed 1). Against the
 * same tasks without the limit. (Open-source BullMQ has no per-key
 * concurrency; BullMQ Pro's groups do.)
 */
import { clock, sleep } from '../clock.js';
import {
  chunks,
  fmt,
  interleave,
  maxOf,
  med,
  openErrand,
  prng,
  table,
  until,
  watchCalls,
  watchOutcomes,
  type Settings,
} from './common.js';
import { errandStore, type BrokerName } from './env.js';

const KEYS = 1000;
const CONCURRENCY = 100;
const HANDLER_MS = 2;
const BROKERS: BrokerName[] = ['sqlite', 'redis', 'postgres'];
type Measure = 'throughput' | 'perKey' | 'overall' | 'perClaim' | 'claimMs';

export async function keyedTrial(
  broker: BrokerName,
  keys: readonly string[],
  limited: boolean,
): Promise<Record<Measure, number>> {
  const store = errandStore(broker);
  const app = openErrand(store.url);
  try {
    const running = new Map<string, number>();
    let perKey = 0;
    let now = 0;
    let overall = 0;
    const task = app.task(
      'flow.keyed',
      async (_ctx, key: string, _i: number): Promise<null> => {
        const n = (running.get(key) ?? 0) + 1;
        running.set(key, n);
        perKey = Math.max(perKey, n);
        overall = Math.max(overall, ++now);
        try {
          await sleep(HANDLER_MS);
        } finally {
          running.set(key, running.get(key)! - 1);
          now--;
        }
        return null;
      },
      limited ? { concurrency: { key: (key: string) => key, limit: 1 } } : {},
    );
    const outcomes = watchOutcomes(app);
    const calls = watchCalls(app);
    for (const batch of chunks(
      keys.map((key, i): [string, number] => [key, i]),
      1000,
    ))
      await task.delayMany(batch);
    const worker = app.worker({ concurrency: CONCURRENCY, handleSignals: false });
    const t0 = clock();
    await worker.start();
    await until(() => outcomes.completed + outcomes.failed >= keys.length, 300_000, `${broker} keys`, 5);
    const seconds = (clock() - t0) / 1000;
    if (outcomes.failed > 0) throw new Error(`${outcomes.failed} tasks failed`);
    return {
      throughput: keys.length / seconds,
      perKey,
      overall,
      perClaim: calls.claimed / calls.claims,
      claimMs: calls.claimMs / calls.claims,
    };
  } finally {
    await app.close();
    await store.cleanup();
  }
}

export async function runKeyConcurrency(settings: Settings): Promise<string> {
  const count = settings.quick ? 5000 : 20_000;
  const random = prng(7);
  const keys = Array.from({ length: count }, () => `k${Math.floor(random() * KEYS)}`);
  const variants = BROKERS.flatMap((b) => [`${b}, limit 1 per key`, `${b}, no limit`]);
  settings.log(`keys: ${count} tasks over ${KEYS} keys, ${settings.rounds} round(s)`);
  const results = await interleave<string, Measure>(settings, variants, (variant) => {
    const [broker, kind] = variant.split(', ') as [BrokerName, string];
    return keyedTrial(broker, keys, kind.startsWith('limit'));
  });
  const rows = BROKERS.map((b) => {
    const limited = `${b}, limit 1 per key`;
    const free = `${b}, no limit`;
    return [
      b,
      fmt(med(results, limited, 'throughput')),
      fmt(med(results, free, 'throughput')),
      `${fmt((med(results, limited, 'throughput') / med(results, free, 'throughput')) * 100)} %`,
      fmt(maxOf(results, limited, 'perKey')),
      fmt(maxOf(results, free, 'perKey')),
      `${fmt(med(results, limited, 'overall'))} / ${fmt(med(results, free, 'overall'))}`,
      `${fmt(med(results, limited, 'perClaim'), 1)} / ${fmt(med(results, free, 'perClaim'), 1)}`,
      `${fmt(med(results, limited, 'claimMs'), 1)} / ${fmt(med(results, free, 'claimMs'), 1)}`,
    ];
  });
  return [
    `## 4. ${fmt(KEYS)} keys at concurrency 1 per key (errand only)`,
    '',
    `${fmt(count)} tasks over ${fmt(KEYS)} keys (seeded random draws, about ${fmt(count / KEYS)} per key), \`concurrency: { key: (key) => key, limit: 1 }\`, each handler awaiting a ${HANDLER_MS} ms timer; one worker at concurrency ${CONCURRENCY}, queue pre-filled, timed from the worker's start to the last success recorded. "Max per key" is the most tasks of one key seen running at once in the handler (worst round; must be 1 with the limit). "Max running" is the most handlers running at once (median round), with the limit / without. "Tasks per claim" and "ms per claim": the worker's \`backend.claim\` calls that returned tasks, how many each returned and how long each took (median round, limited / unlimited). Open-source BullMQ has no per-key concurrency limit (BullMQ Pro's groups have one), so errand runs alone here. Medians of ${settings.rounds} interleaved round(s), tasks/s.`,
    '',
    table(
      [
        'broker',
        'limit 1 per key',
        'no limit',
        'limited / unlimited',
        'max per key, limited',
        'max per key, no limit',
        'max running',
        'tasks per claim',
        'ms per claim',
      ],
      rows,
    ),
  ].join('\n');
}
