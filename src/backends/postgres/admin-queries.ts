import { CLAIMABLE_SQL, TASK_COLUMNS } from './rows.js';

const KEPT = '(purge_at IS NULL OR purge_at > $1)';

/** BackendAdmin's statements for the schema `S` (quoted); the task transitions it makes are in queries.ts. */
export function adminQueries(S: string) {
  return {
    /**
     * Kept tasks per (queue, state), with the due ones among the waiting, and
     * a row per paused queue (state NULL): one statement, one snapshot.
     * One pass over the table; admin only, never on the task path.
     */
    overview: `SELECT queue, state, count(*) AS n,
        count(*) FILTER (WHERE ${CLAIMABLE_SQL} AND run_at <= $1) AS ready,
        min(run_at) FILTER (WHERE ${CLAIMABLE_SQL} AND run_at <= $1) AS oldest_ready
      FROM ${S}.tasks WHERE ${KEPT} GROUP BY queue, state
      UNION ALL SELECT queue, NULL, 0, 0, NULL FROM ${S}.paused_queues`,
    /** listTasks: `where` and `order` from taskListSql. */
    list: (where: string, order: string) => `SELECT ${TASK_COLUMNS} FROM ${S}.tasks WHERE ${where} ${order}`,
    record: `SELECT ${TASK_COLUMNS}, EXISTS (SELECT 1 FROM ${S}.dead_letters d WHERE d.id = t.id) AS dead_lettered
      FROM ${S}.tasks t WHERE t.id = $1`,
    pause: `INSERT INTO ${S}.paused_queues (queue, paused_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    resume: `DELETE FROM ${S}.paused_queues WHERE queue = $1`,
    paused: `SELECT queue FROM ${S}.paused_queues ORDER BY queue COLLATE "C"`,
    /** A dead letter's task about to be stored again: its expired row (unknown already) goes first, with its tag rows. */
    dropExpired: `WITH gone AS (DELETE FROM ${S}.tasks WHERE id = $1 AND purge_at <= $2 RETURNING id)
      DELETE FROM ${S}.task_tags WHERE task_id IN (SELECT id FROM gone)`,
    /** Every dead letter of task $1 (RETURNING order is unspecified: seq tells the newest). */
    takeDeadLetters: `DELETE FROM ${S}.dead_letters WHERE id = $1 RETURNING seq, id, name, queue, payload, trace`,
    dropDeadLetters: `WITH gone AS (DELETE FROM ${S}.dead_letters WHERE id = ANY($1::text[]) RETURNING 1)
      SELECT count(*) AS n FROM gone`,

    putRecords: `INSERT INTO ${S}.admin_records (kind, id, json, expires_at)
      SELECT $1, r.id, r.json, $4 FROM unnest($2::text[], $3::text[]) AS r(id, json)
      ON CONFLICT (kind, id) DO UPDATE SET json = excluded.json, expires_at = excluded.expires_at`,
    listRecords: `SELECT id, json FROM ${S}.admin_records
      WHERE kind = $1 AND starts_with(id, $2) AND expires_at > $3 ORDER BY id`,
    deleteRecord: `DELETE FROM ${S}.admin_records WHERE kind = $1 AND id = $2`,
    /** Atomic across processes; a bucket's drop time is set by its first count. */
    addCounts: `INSERT INTO ${S}.admin_counters (bucket, key, value, drop_at)
      SELECT $1, d.key, d.value, $4 FROM unnest($2::text[], $3::float8[]) AS d(key, value)
      ON CONFLICT (bucket, key) DO UPDATE SET value = ${S}.admin_counters.value + excluded.value`,
    readCounts: `SELECT bucket, key, value FROM ${S}.admin_counters
      WHERE bucket >= $1::float8 AND drop_at > $2 ORDER BY bucket`,
    appendLog: `INSERT INTO ${S}.admin_logs (kind, json) VALUES ($1, $2)`,
    trimLog: `DELETE FROM ${S}.admin_logs WHERE kind = $1
      AND seq <= (SELECT seq FROM ${S}.admin_logs WHERE kind = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)`,
    readLog: `SELECT json FROM ${S}.admin_logs WHERE kind = $1 ORDER BY seq DESC LIMIT $2`,
  };
}

export type AdminSql = ReturnType<typeof adminQueries>;
