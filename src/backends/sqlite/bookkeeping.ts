import type { CountBucket } from '../../core/admin/admin-backend.js';
import type { Db } from './database.js';

/** BackendAdmin's records, counters and logs; writes run inside the backend's write transactions. */
export class BookkeepingQueries {
  private readonly putStmt;
  private readonly listStmt;
  private readonly deleteStmt;
  private readonly addStmt;
  private readonly countsStmt;
  private readonly appendStmt;
  private readonly trimStmt;
  private readonly logStmt;

  constructor(db: Db) {
    this.putStmt = db.prepare<[{ kind: string; id: string; json: string; expiresAt: number }]>(
      `INSERT INTO admin_records (kind, id, json, expires_at) VALUES (@kind, @id, @json, @expiresAt)
       ON CONFLICT (kind, id) DO UPDATE SET json = excluded.json, expires_at = excluded.expires_at`,
    );
    // expired ones are left out here and deleted by prune
    this.listStmt = db.prepare<[{ kind: string; prefix: string; now: number }], { id: string; json: string }>(
      `SELECT id, json FROM admin_records
       WHERE kind = @kind AND substr(id, 1, length(@prefix)) = @prefix AND expires_at > @now ORDER BY id`,
    );
    this.deleteStmt = db.prepare<[string, string]>('DELETE FROM admin_records WHERE kind = ? AND id = ?');
    // a bucket's drop time is set by its first count
    this.addStmt = db.prepare<[{ bucket: number; key: string; delta: number; dropAt: number }]>(
      `INSERT INTO admin_counters (bucket, key, value, drop_at) VALUES (@bucket, @key, @delta, @dropAt)
       ON CONFLICT (bucket, key) DO UPDATE SET value = value + excluded.value`,
    );
    this.countsStmt = db.prepare<[{ since: number; now: number }], { bucket: number; key: string; value: number }>(
      'SELECT bucket, key, value FROM admin_counters WHERE bucket >= @since AND drop_at > @now ORDER BY bucket',
    );
    // the write lock makes max + 1 safe
    this.appendStmt = db.prepare<[{ kind: string; json: string }]>(
      `INSERT INTO admin_logs (kind, seq, json)
       VALUES (@kind, (SELECT ifnull(MAX(seq), 0) + 1 FROM admin_logs WHERE kind = @kind), @json)`,
    );
    this.trimStmt = db.prepare<[{ kind: string; keep: number }]>(
      `DELETE FROM admin_logs WHERE kind = @kind
       AND seq <= (SELECT seq FROM admin_logs WHERE kind = @kind ORDER BY seq DESC LIMIT 1 OFFSET @keep)`,
    );
    this.logStmt = db
      .prepare<[{ kind: string; limit: number }], string>(
        'SELECT json FROM admin_logs WHERE kind = @kind ORDER BY seq DESC LIMIT @limit',
      )
      .pluck();
  }

  putRecords(kind: string, records: ReadonlyArray<{ id: string; json: string }>, expiresAt: number): void {
    for (const { id, json } of records) this.putStmt.run({ kind, id, json, expiresAt });
  }

  listRecords(kind: string, prefix: string, now: number): Array<{ id: string; json: string }> {
    return this.listStmt.all({ kind, prefix, now });
  }

  deleteRecord(kind: string, id: string): void {
    this.deleteStmt.run(kind, id);
  }

  addCounts(bucket: number, deltas: Readonly<Record<string, number>>, dropAt: number): void {
    for (const [key, delta] of Object.entries(deltas)) this.addStmt.run({ bucket, key, delta, dropAt });
  }

  readCounts(since: number, now: number): CountBucket[] {
    const buckets: CountBucket[] = [];
    for (const { bucket, key, value } of this.countsStmt.all({ since, now })) {
      let last = buckets.at(-1);
      if (last?.bucket !== bucket) buckets.push((last = { bucket, counts: {} }));
      last.counts[key] = value;
    }
    return buckets;
  }

  appendLog(kind: string, json: string, keep: number): void {
    this.appendStmt.run({ kind, json });
    this.trimStmt.run({ kind, keep: Math.max(0, Math.floor(keep)) });
  }

  readLog(kind: string, limit: number): string[] {
    return limit <= 0 ? [] : this.logStmt.all({ kind, limit: Math.floor(limit) });
  }
}
