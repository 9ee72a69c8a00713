/**
 * Schema version 4: what BackendAdmin stores (paused queues, the dashboard's
 * records, counters and logs), the indexes its queries walk, task
 * priorities, and flow control (concurrency limits, fair groups). Additive:
 * a version-3 file upgrades in place, its tasks untouched (priority 0, no
 * group, no limits).
 */
const runningKeyIndex = (n: number): string => `CREATE INDEX tasks_running_key${n} ON tasks (limit_key${n})
  WHERE limit_key${n} IS NOT NULL AND state IN ('STARTED', 'PROGRESS');`;

export const ADMIN_SQL = `
-- NewTask.priority: higher first within a queue
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
-- NewTask.group; '' for a task with limits but no group, NULL for a task
-- with neither: the claim's plain path, which never looks at groups
ALTER TABLE tasks ADD COLUMN fair_group TEXT;
-- NewTask.limits as JSON [{"key","limit"}], NULL when none
ALTER TABLE tasks ADD COLUMN limits TEXT;
-- the plain claim walks this: priority, then due order; tasks_claimable
-- (queue, run_at) stays for the next due time and the waiting count
CREATE INDEX tasks_ready ON tasks (queue, priority DESC, run_at, seq)
  WHERE state IN ('PENDING', 'RETRY') AND fair_group IS NULL;
-- the flow-controlled claim seeks each group's head here (one probe per group);
-- the flow indexes test their own column first: a plain row is out at once
CREATE INDEX tasks_fair ON tasks (queue, priority DESC, fair_group, run_at, seq)
  WHERE fair_group IS NOT NULL AND state IN ('PENDING', 'RETRY');

-- NewTask.limits' keys, one a column (at most 4): the running tasks holding
-- a key are counted from these partial indexes, which every way out of
-- STARTED/PROGRESS leaves by itself (no trigger, nothing to forget); a plain
-- task never enters them.
ALTER TABLE tasks ADD COLUMN limit_key1 TEXT;
ALTER TABLE tasks ADD COLUMN limit_key2 TEXT;
ALTER TABLE tasks ADD COLUMN limit_key3 TEXT;
ALTER TABLE tasks ADD COLUMN limit_key4 TEXT;
${[1, 2, 3, 4].map(runningKeyIndex).join('\n')}
-- a group with a task running keeps its place in the rotation (the task may come back)
CREATE INDEX tasks_fair_running ON tasks (queue, priority, fair_group)
  WHERE fair_group IS NOT NULL AND state IN ('STARTED', 'PROGRESS');

-- Each queue's group rotation, per priority: the claim serves the lowest
-- turn first, and a served group takes the next turn (the back). A group
-- joins at the back when its first task is enqueued (enqueue writes the row);
-- the claim drops the row of a group with nothing waiting or running.
CREATE TABLE fair_turns (
  queue      TEXT    NOT NULL,
  priority   INTEGER NOT NULL,
  fair_group TEXT    NOT NULL,
  turn       INTEGER NOT NULL,
  PRIMARY KEY (queue, priority, fair_group)
) WITHOUT ROWID;
CREATE INDEX fair_turns_order ON fair_turns (queue, priority, turn);

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
