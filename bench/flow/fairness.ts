/**
 * Workload 5, errand only: tenant A enqueues A_TASKS no-op tasks with
 * `fairness: { key: tenant }`, then tenant B enqueues 10; then one worker at
 * concurrency 10 starts. When B's last task is recorded done, how many of
 * A's were done? (Issue 11 wants fewer than 500.) The same without
 * fairness, for contrast. The worker stops as soon as B is done.
 */
import { clock } from '../clock.js';
import { chunks, fmt, interleave, maxOf, med, openErrand, table, until, watchOutcomes, type Settings } from './common.js';
import { errandStore, type BrokerName } from './env.js';

const B_TASKS = 10;
const CONCURRENCY = 10;
const BROKERS: BrokerName[] = ['memory', 'sqlite', 'redis', 'postgres'];
type Measure = 'aDone' | 'ms';

async function trial(broker: BrokerName, aTasks: number, fair: boolean): Promise<Record<Measure, number>> {
  const store = errandStore(broker);
  const app = openErrand(store.url);
  try {
    const task = app.task(
      'flow.export',
      (_ctx, _tenant: string, _i: number): null => null,
      fair ? { fairness: { key: (tenant: string) => tenant } } : {},
    );
    const bIds = new Set<string>();
    let aDone = 0;
    let bDone = 0;
    let aWhenB = NaN;
    watchOutcomes(app, (t) => {
      if (!bIds.has(t.id)) aDone++;
      else if (++bDone === B_TASKS) aWhenB = aDone;
    });
    for (const batch of chunks(
      Array.from({ length: aTasks }, (_, i): [string, number] => ['A', i]),
      1000,
    ))
      await task.delayMany(batch);
    for (const r of await task.delayMany(Array.from({ length: B_TASKS }, (_, i): [string, number] => ['B', i]))) bIds.add(r.id);
    const worker = app.worker({ concurrency: CONCURRENCY, handleSignals: false });
    const t0 = clock();
    await worker.start();
    await until(() => bDone >= B_TASKS, 120_000, `${broker} fairness`, 1);
    return { aDone: aWhenB, ms: clock() - t0 };
  } finally {
    await app.close();
    await store.cleanup();
  }
}

export async function runFairness(settings: Settings): Promise<string> {
  const aTasks = settings.quick ? 3000 : 10_000;
  const variants = BROKERS.flatMap((b) => [`${b}, fairness`, `${b}, none`]);
  settings.log(`fairness: A ${aTasks} then B ${B_TASKS}, ${settings.rounds} round(s)`);
  const results = await interleave<string, Measure>(settings, variants, (variant) => {
    const [broker, kind] = variant.split(', ') as [BrokerName, string];
    return trial(broker, aTasks, kind === 'fairness');
  });
  const rows = BROKERS.map((b) => [
    b,
    fmt(maxOf(results, `${b}, fairness`, 'aDone')),
    fmt(med(results, `${b}, fairness`, 'ms')),
    fmt(maxOf(results, `${b}, none`, 'aDone')),
    fmt(med(results, `${b}, none`, 'ms')),
  ]);
  return [
    `## 5. Two-tenant fairness (errand only)`,
    '',
    `Tenant A enqueues ${fmt(aTasks)} no-op tasks (\`fairness: { key: (tenant) => tenant }\`), then tenant B enqueues ${B_TASKS}; one worker at concurrency ${CONCURRENCY} starts on the full queue. "A done" is how many of A's tasks were recorded done when B's last one was (worst of ${settings.rounds} round(s); issue 11 wants fewer than 500); "ms" is from the worker's start to B's last (median).`,
    '',
    table(
      [
        'broker',
        'fairness: A done when B ends',
        'fairness: ms to B end',
        'no fairness: A done when B ends',
        'no fairness: ms to B end',
      ],
      rows,
    ),
  ].join('\n');
}
