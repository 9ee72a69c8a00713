import type { AttemptResult } from '../instrumentation.js';
import type { BackendAdmin } from './admin-backend.js';
import type { DepthPoint, History, ThroughputPoint } from './admin-types.js';

/** Folds the per-minute counters and depth records into the dashboard's series. */
export async function readHistory(admin: BackendAdmin, since: number, depthKind: string): Promise<History> {
  const [buckets, depthRecords] = await Promise.all([admin.readCounts(since), admin.listRecords(depthKind)]);
  const throughput: ThroughputPoint[] = [];
  for (const { bucket, counts } of buckets) {
    const byTask = new Map<string, ThroughputPoint>();
    for (const [key, n] of Object.entries(counts)) {
      const bar = key.indexOf('|');
      const result = key.slice(0, bar) as AttemptResult;
      const task = key.slice(bar + 1);
      let point = byTask.get(task);
      if (!point) byTask.set(task, (point = { at: bucket, task, succeeded: 0, failed: 0, retried: 0 }));
      if (result === 'success') point.succeeded += n;
      else if (result === 'failure' || result === 'dead_letter') point.failed += n;
      else if (result === 'retry') point.retried += n;
    }
    throughput.push(...[...byTask.values()].sort((a, b) => (a.task < b.task ? -1 : 1)));
  }
  const depth: DepthPoint[] = [];
  for (const { id, json } of depthRecords) {
    const colon = id.indexOf(':');
    const at = Number(id.slice(0, colon));
    if (at < since) continue;
    depth.push({ at, queue: id.slice(colon + 1), waiting: (JSON.parse(json) as { waiting: number }).waiting });
  }
  return { since, throughput, depth };
}
