/**
 * Schema version 4: what BackendAdmin stores (paused queues, the dashboard's
 * records, counters and logs), the indexes its queries walk, and task
 * priorities. Additive: a version-3 file upgrades in place, its tasks
 * untouched (priority 0).
 */
export const ADMIN_SQL = `
-- NewTask.priority: higher first within a queue
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
-- claim walks this: priority, then due order; tasks_claimable (queue, run_at)
-- stays for the next due time and the waiting count
CREATE INDEX tasks_ready ON tasks (queue, priority DESC, run_at, seq) WHERE state IN ('PENDING', 'RETRY');

-- claim skips these queues (read in the claim statement itself)
CREATE TABLE paused_queues (
  queue     TEXT    PRIMARY KEY,
  paused_at INTEGER NOT NULL
) WITHOUT ROWID;

-- small JSON records (worker heartbeats, attempts), each gone at expires_at
CREATE TABLE admin_records (
  kind       TEXT    NOT NULL,
  id         TEXT    NOT NULL,
  json       TEXT    NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX admin_records_expiry ON admin_records (expires_at);

-- throughput counters per time bucket, dropped at drop_at
CREATE TABLE admin_counters (
  bucket  INTEGER NOT NULL,
  key     TEXT    NOT NULL,
  value   REAL    NOT NULL,
  drop_at INTEGER NOT NULL,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE INDEX admin_counters_drop ON admin_counters (drop_at);

-- capped logs: seq counts up per kind
CREATE TABLE admin_logs (
  kind TEXT    NOT NULL,
  seq  INTEGER NOT NULL,
  json TEXT    NOT NULL,
  PRIMARY KEY (kind, seq)
) WITHOUT ROWID;

-- listTasks pages newest first; the columns never change after enqueue, so
-- transitions do not touch it
CREATE INDEX tasks_listed ON tasks (enqueued_at DESC, id DESC);
-- getTask's deadLettered and the dead-letter actions look letters up by task id
CREATE INDEX dead_letters_task ON dead_letters (id);
`;
