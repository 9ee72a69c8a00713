import type { CountBucket } from '../../core/admin/admin-backend.js';
import type { Clock } from '../../core/clock.js';

/** The memory broker's records, counters and logs (BackendAdmin's bookkeeping half). */
export class MemoryBookkeeping {
  private readonly records = new Map<string, Map<string, { json: string; until: number }>>();
  private readonly counts = new Map<number, { counts: Record<string, number>; until: number }>();
  private readonly logs = new Map<string, string[]>();

  constructor(private readonly clock: Clock) {}

  putRecords(kind: string, records: ReadonlyArray<{ id: string; json: string }>, ttlMs: number): void {
    let byId = this.records.get(kind);
    if (!byId) this.records.set(kind, (byId = new Map()));
    const until = this.clock.now() + ttlMs;
    for (const { id, json } of records) byId.set(id, { json, until });
  }

  listRecords(kind: string, idPrefix: string): Array<{ id: string; json: string }> {
    const t = this.clock.now();
    const out: Array<{ id: string; json: string }> = [];
    for (const [id, record] of this.records.get(kind) ?? []) {
      if (record.until <= t) this.records.get(kind)!.delete(id);
      else if (id.startsWith(idPrefix)) out.push({ id, json: record.json });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  deleteRecord(kind: string, id: string): void {
    this.records.get(kind)?.delete(id);
  }

  addCounts(bucket: number, deltas: Readonly<Record<string, number>>, retainMs: number): void {
    let entry = this.counts.get(bucket);
    if (!entry) this.counts.set(bucket, (entry = { counts: {}, until: bucket + retainMs }));
    for (const [key, delta] of Object.entries(deltas)) entry.counts[key] = (entry.counts[key] ?? 0) + delta;
  }

  readCounts(since: number): CountBucket[] {
    const t = this.clock.now();
    const out: CountBucket[] = [];
    for (const [bucket, entry] of this.counts) {
      if (entry.until <= t) this.counts.delete(bucket);
      else if (bucket >= since) out.push({ bucket, counts: { ...entry.counts } });
    }
    return out.sort((a, b) => a.bucket - b.bucket);
  }

  appendLog(kind: string, json: string, keep: number): void {
    let log = this.logs.get(kind);
    if (!log) this.logs.set(kind, (log = []));
    log.push(json);
    if (log.length > keep) log.splice(0, log.length - keep);
  }

  readLog(kind: string, limit: number): string[] {
    if (limit <= 0) return [];
    return (this.logs.get(kind) ?? []).slice(-limit).reverse();
  }
}
