/**
 * Workload 3, what a chord costs per member: FLOWS chords of MEMBERS no-op
 * members and a callback that gets the members' results (errand
 * `app.chord(members, callback)`; BullMQ FlowProducer, one parent with
 * MEMBERS children, the parent reading `job.getChildrenValues()`), against
 * the same number of plain tasks (FLOWS × (MEMBERS + 1)), enqueued the same
 * way (one call per flow, all flows at once). One worker at concurrency 50,
 * started before the enqueue; timed from the first enqueue call to the last
 * callback (or plain task) recorded done.
 *
 * Overhead per member = (flow time − plain time) / (FLOWS × MEMBERS).
 */
import { FlowProducer, Queue, Worker } from 'bullmq';
import { clock } from '../clock.js';
import { fmt, interleave, med, openErrand, paired, table, until, watchCalls, watchOutcomes, type Settings } from './common.js';
import { bullmqStore, errandStore, redisOptions } from './env.js';

const CONCURRENCY = 50;
const SYSTEMS = ['errand-redis', 'bullmq'] as const;
type Shape = { flows: number; members: number };
type Measure = 'ms' | 'createdMs' | 'getInfoPerMember';

async function errandTrial({ flows, members }: Shape, asFlows: boolean): Promise<Record<Measure, number>> {
  const store = errandStore('redis');
  const app = openErrand(store.url);
  try {
    const member = app.task('flow.member', (_ctx, i: number) => i);
    const join = app.task('flow.join', (_ctx, results: number[]) => results.length);
    let joined = 0;
    const outcomes = watchOutcomes(app, (task) => {
      if (task.name === 'flow.join') joined++;
    });
    const calls = watchCalls(app);
    const worker = app.worker({ concurrency: CONCURRENCY, handleSignals: false });
    await worker.start();
    const t0 = clock();
    if (asFlows) {
      await Promise.all(
        Array.from({ length: flows }, (_, f) =>
          app.chord(
            Array.from({ length: members }, (_, m) => member.s(f * members + m)),
            join.s(),
          ),
        ),
      );
    } else {
      await Promise.all(
        Array.from({ length: flows }, (_, f) =>
          member.delayMany(Array.from({ length: members + 1 }, (_, m): [number] => [f * (members + 1) + m])),
        ),
      );
    }
    const created = clock();
    const total = flows * (members + 1);
    await until(() => (asFlows ? joined >= flows : outcomes.completed >= total) || outcomes.failed > 0, 120_000, 'errand chord');
    const ms = clock() - t0;
    if (outcomes.failed > 0) throw new Error(`${outcomes.failed} tasks failed`);
    return { ms, createdMs: created - t0, getInfoPerMember: calls.getInfo / (flows * members) };
  } finally {
    await app.close();
    await store.cleanup();
  }
}

async function bullmqTrial({ flows, members }: Shape, asFlows: boolean): Promise<Record<Measure, number>> {
  const store = bullmqStore();
  const connection = { ...redisOptions };
  const queue = new Queue('flow', { connection, prefix: store.prefix });
  const producer = new FlowProducer({ connection, prefix: store.prefix });
  let joined = 0;
  let completed = 0;
  let failed = 0;
  const worker = new Worker(
    'flow',
    async (job) => {
      if (job.name === 'join') return Object.keys(await job.getChildrenValues()).length;
      return (job.data as { i: number }).i;
    },
    { connection: { ...connection, maxRetriesPerRequest: null }, prefix: store.prefix, concurrency: CONCURRENCY, autorun: false },
  );
  worker.on('completed', (job) => {
    completed++;
    if (job.name === 'join') joined++;
  });
  worker.on('failed', () => failed++);
  worker.on('error', (error) => console.error('bullmq worker error:', error));
  let running: Promise<void> | undefined;
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    running = worker.run();
    const t0 = clock();
    if (asFlows) {
      await Promise.all(
        Array.from({ length: flows }, (_, f) =>
          producer.add({
            name: 'join',
            queueName: 'flow',
            data: {},
            children: Array.from({ length: members }, (_, m) => ({
              name: 'member',
              queueName: 'flow',
              data: { i: f * members + m },
            })),
          }),
        ),
      );
    } else {
      await Promise.all(
        Array.from({ length: flows }, (_, f) =>
          queue.addBulk(Array.from({ length: members + 1 }, (_, m) => ({ name: 'member', data: { i: f * (members + 1) + m } }))),
        ),
      );
    }
    const created = clock();
    const total = flows * (members + 1);
    await until(() => (asFlows ? joined >= flows : completed >= total) || failed > 0, 120_000, 'bullmq flow');
    if (failed > 0) throw new Error(`${failed} jobs failed`);
    return { ms: clock() - t0, createdMs: created - t0, getInfoPerMember: NaN };
  } finally {
    await worker.close();
    await running;
    await producer.close();
    await queue.close();
    await store.cleanup();
  }
}

export async function runChord(settings: Settings): Promise<string> {
  const shapes: Shape[] = settings.quick
    ? [
        { flows: 50, members: 10 },
        { flows: 5, members: 100 },
      ]
    : [
        { flows: 200, members: 10 },
        { flows: 20, members: 100 },
      ];
  const variants = shapes.flatMap((shape) =>
    SYSTEMS.flatMap((system) => [
      `${system} ${shape.flows}x${shape.members} flows`,
      `${system} ${shape.flows}x${shape.members} plain`,
    ]),
  );
  settings.log(`chord: ${shapes.map((s) => `${s.flows}x${s.members}`).join(', ')}, ${settings.rounds} round(s)`);
  const results = await interleave<string, Measure>(settings, variants, (variant) => {
    const [system, size, kind] = variant.split(' ') as [string, string, string];
    const [flows, members] = size.split('x').map(Number) as [number, number];
    return system === 'errand-redis'
      ? errandTrial({ flows, members }, kind === 'flows')
      : bullmqTrial({ flows, members }, kind === 'flows');
  });
  const rows = shapes.flatMap((shape) =>
    SYSTEMS.map((system) => {
      const v = `${system} ${shape.flows}x${shape.members}`;
      const flowMs = med(results, `${v} flows`, 'ms');
      const plainMs = med(results, `${v} plain`, 'ms');
      // per round (flow − plain), then the median: the two ran back to back
      const perMember =
        (paired(results, `${v} flows`, `${v} plain`, 'ms', (x, y) => x - y) * 1000) / (shape.flows * shape.members);
      return [
        `${fmt(shape.flows)} × ${fmt(shape.members)}`,
        system,
        fmt(flowMs),
        fmt(med(results, `${v} flows`, 'createdMs')),
        fmt(plainMs),
        fmt(perMember),
        fmt((shape.flows * shape.members) / (flowMs / 1000)),
        system === 'errand-redis' ? fmt(med(results, `${v} flows`, 'getInfoPerMember'), 1) : 'n/a',
      ];
    }),
  );
  return [
    `## 3. Chord overhead per member (Redis)`,
    '',
    `errand \`app.chord(members, callback)\` against BullMQ \`FlowProducer.add\` (one parent, N children; the parent reads \`getChildrenValues()\`, as errand's callback gets the members' results), all flows created at once (\`Promise.all\`, one call per flow) while one worker at concurrency ${CONCURRENCY} runs. "Plain" is the same number of tasks, flows × (members + 1), one bulk call per flow. Wall time from the first enqueue call to the last callback recorded done; "created" is when every enqueue call had resolved. Overhead per member = (flow − plain) / (flows × members), flow − plain taken within each round, then the median. "getInfo calls per member": status reads through errand's backend during the flow run, per member (each member's follow-up advance reads every member's status to see whether the chord is complete). Medians of ${settings.rounds} interleaved round(s).`,
    '',
    table(
      [
        'flows × members',
        'system',
        'flows: wall ms',
        'flows: created ms',
        'plain: wall ms',
        'overhead µs per member',
        'members/s in flows',
        'errand: getInfo calls per member',
      ],
      rows,
      2,
    ),
  ].join('\n');
}
