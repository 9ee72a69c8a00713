/**
 * `npm run bench -- --profile`: where errand spends its CPU. Each errand
 * system drains the throughput workload at concurrency 50 and 1 in a worker
 * child started with `node --cpu-prof`; the producer's bulk enqueue is
 * profiled in this process through the inspector. Prints the top functions
 * by self time and the share of each module.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildPool, childNodeFlags } from './children.js';
import type { BenchContext, Settings } from './context.js';
import { resetSystem } from './context.js';
import { RedisAdmin } from './redis-admin.js';
import { renderText } from './report.js';
import type { BenchResults, ProfileEntry } from './results.js';
import { loadSystem, type SystemName } from './systems/index.js';
import { runThroughput, type ThroughputPhase, type ThroughputSample } from './workloads/throughput.js';

const INTERVAL_US = 250;

interface CpuProfile {
  startTime: number;
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

/** Module a profile node belongs to, from its script URL. */
function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/src\/(.+)\/[^/]+$/.exec(url);
  if (src) return `errand src/${src[1]}`;
  if (url.includes('/bench/')) return 'bench harness';
  return url;
}

/** Self time per function (and per module) of a .cpuprofile, idle excluded. */
export function summarizeProfile(
  label: string,
  file: string,
  profile: CpuProfile,
  window?: { startUs: number; endUs: number },
  top = 20,
): ProfileEntry {
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.startUs || at > window.endUs)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const byFn = new Map<string, { fn: string; where: string; us: number }>();
  const byModule = new Map<string, number>();
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (us === 0 || functionName === '(idle)') continue;
    totalUs += us;
    const fn = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const entry = byFn.get(key) ?? { fn, where, us: 0 };
    entry.us += us;
    byFn.set(key, entry);
    const mod = moduleOf(url, fn);
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
  }
  const pct = (us: number): number => (100 * us) / (totalUs || 1);
  return {
    label,
    file,
    totalMs: totalUs / 1000,
    top: [...byFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, selfPct: pct(e.us) })),
    byModule: [...byModule]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([module, us]) => ({ module, selfMs: us / 1000, selfPct: pct(us) })),
  };
}

/** The new main-thread profile (CPU.<date>.<time>.<pid>.<thread>.<seq>; tsx's loader thread writes one too). */
function newestProfile(dir: string, after: Set<string>): string {
  const files = readdirSync(dir).filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f) && !after.has(f));
  if (files.length === 0) throw new Error(`no new .cpuprofile in ${dir}`);
  return join(dir, files.sort((a, b) => statSync(join(dir, b)).mtimeMs - statSync(join(dir, a)).mtimeMs)[0]!);
}

export async function runProfile(
  settings: Settings,
  systems: SystemName[] = ['errand-redis', 'errand-sqlite'],
): Promise<ProfileEntry[]> {
  const dir = join(tmpdir(), 'errand-bench-prof', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  childNodeFlags.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${INTERVAL_US}`);
  const admin = await RedisAdmin.open();
  const entries: ProfileEntry[] = [];
  const session = new Session();
  session.connect();
  try {
    for (const name of systems.filter((s) => s.startsWith('errand'))) {
      const system = await loadSystem(name);
      // producer: the bulk enqueue, in this process
      await resetSystem({ admin } as BenchContext, system);
      const producer = await system.openProducer({ watchResults: false });
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: INTERVAL_US });
      await session.post('Profiler.start');
      await producer.enqueueBulk(settings.tasks);
      const { profile } = await session.post('Profiler.stop');
      await producer.close();
      entries.push(
        summarizeProfile(
          `${name} producer: enqueue ${settings.tasks} tasks (Promise.all of delay)`,
          '(in-process)',
          profile as CpuProfile,
        ),
      );
      console.log(`profiled ${name} producer`);

      // worker: one fresh child per phase, so that each profile holds one phase
      for (const phase of ['c50', 'c1'] as ThroughputPhase[]) {
        const pool = new ChildPool();
        const before = new Set(readdirSync(dir));
        const ctx: BenchContext = { settings, admin, pool, log: console.log };
        let sample: ThroughputSample;
        try {
          sample = await runThroughput(ctx, system, phase, 1, { measureAltBulk: false });
          console.log(`profiled ${name} worker ${phase}: ${Math.round(sample.processPerSec)} tasks/s (slowed by the profiler)`);
        } finally {
          await pool.closeAll();
        }
        const file = newestProfile(dir, before);
        const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
        const window = sample.windows[0]!;
        entries.push(
          summarizeProfile(
            `${name} worker process, ${phase}, processing window only (${Math.round((window.endUs - window.startUs) / 1000)} ms, ${settings.tasks} tasks)`,
            file,
            profile,
            window,
          ),
        );
      }
    }
  } finally {
    for (const name of systems)
      await loadSystem(name)
        .then((s) => s.resetStorage())
        .catch(() => {});
    session.disconnect();
    await admin.flush().catch(() => {});
    await admin.close();
  }
  const results = {
    throughput: [],
    latency: [],
    commands: [],
    errors: [],
    systems: [],
    profiles: entries,
  } as unknown as BenchResults;
  console.log(renderText(results));
  console.log(`\nprofiles in ${dir} (open in Chrome DevTools → Performance, or speedscope)`);
  return entries;
}
