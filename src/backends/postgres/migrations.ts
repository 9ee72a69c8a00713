import type { PoolClient } from 'pg';

/**
 * The schema, versioned. Each migration is SQL run with `S` replaced by the
 * quoted schema name. Never edit a shipped one: add the next.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
CREATE TABLE S.tasks (
  -- enqueue order: the tie-break between tasks due at the same time
  seq             bigserial PRIMARY KEY,
  id              text   NOT NULL UNIQUE,
  name            text   NOT NULL,
  queue           text   NOT NULL,
  state           text   NOT NULL,
  version         integer NOT NULL,
  payload         text   NOT NULL,
  -- JSON as text, read by the adapter (a raw client's garbage there is reported, not thrown)
  result_json     text,
  error_json      text,
  progress_json   text,
  attempts        integer NOT NULL DEFAULT 0,
  retries         integer NOT NULL DEFAULT 0,
  enqueued_at     bigint NOT NULL,
  run_at          bigint NOT NULL,
  started_at      bigint,
  finished_at     bigint,
  expires_at      bigint,
  idempotency_key text,
  lease_owner     text,
  lease_until     bigint,
  -- finished tasks: when the result expires (getInfo forgets it, prune deletes it)
  purge_at        bigint,
  -- JSON array of distinct strings, NULL when the task has none
  tags            text,
  -- JSON {id, name, queue, payload}: the task its terminal transition enqueues
  follow_up       text,
  trace           text
);
-- claims walk this in due order; partial, so finished tasks cost nothing
CREATE INDEX tasks_claimable ON S.tasks (queue, run_at, seq) WHERE state IN ('PENDING', 'RETRY');
CREATE INDEX tasks_leased ON S.tasks (lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX tasks_purge ON S.tasks (purge_at) WHERE purge_at IS NOT NULL;
CREATE UNIQUE INDEX tasks_idempotency ON S.tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Every transition, in commit order (writers take an advisory lock before
-- inserting here): how other processes hear about them, and the tag feeds' cursor.
CREATE TABLE S.events (
  seq     bigserial PRIMARY KEY,
  task_id text    NOT NULL,
  -- the backend instance that wrote it (it has already told its own listeners)
  origin  text    NOT NULL,
  at      bigint  NOT NULL,
  revoked boolean NOT NULL DEFAULT false,
  info    text    NOT NULL,
  tags    text
);
CREATE INDEX events_at ON S.events (at);

-- per tag, each task once, at the events seq of its latest change
CREATE TABLE S.task_tags (
  tag     text   NOT NULL,
  task_id text   NOT NULL,
  seq     bigint NOT NULL,
  PRIMARY KEY (tag, task_id)
);
CREATE INDEX task_tags_feed ON S.task_tags (tag, seq);
CREATE INDEX task_tags_task ON S.task_tags (task_id);

CREATE TABLE S.dead_letters (
  seq        bigserial PRIMARY KEY,
  id         text   NOT NULL,
  name       text   NOT NULL,
  queue      text   NOT NULL,
  payload    text   NOT NULL,
  error_json text   NOT NULL,
  at         bigint NOT NULL,
  trace      text
);
`,
  },
  {
    // what BackendAdmin stores, and the indexes its queries walk; additive, tasks untouched
    version: 2,
    sql: `
-- claim skips these queues (read in the claim statement itself)
CREATE TABLE S.paused_queues (
  queue     text   PRIMARY KEY,
  paused_at bigint NOT NULL
);

-- small JSON records (worker heartbeats, attempts), each gone at expires_at;
-- ids compare byte-wise, as listRecords sorts them
CREATE TABLE S.admin_records (
  kind       text COLLATE "C" NOT NULL,
  id         text COLLATE "C" NOT NULL,
  json       text   NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX admin_records_expiry ON S.admin_records (expires_at);

-- throughput counters per time bucket, dropped at drop_at
CREATE TABLE S.admin_counters (
  bucket  bigint NOT NULL,
  key     text   NOT NULL,
  value   double precision NOT NULL,
  drop_at bigint NOT NULL,
  PRIMARY KEY (bucket, key)
);
CREATE INDEX admin_counters_drop ON S.admin_counters (drop_at);

-- capped logs, newest = highest seq
CREATE TABLE S.admin_logs (
  kind text      NOT NULL,
  seq  bigserial NOT NULL,
  json text      NOT NULL,
  PRIMARY KEY (kind, seq)
);

-- listTasks pages newest first (ids byte-wise, as the cursor orders them);
-- the columns never change after enqueue, so transitions do not touch it
CREATE INDEX tasks_listed ON S.tasks (enqueued_at, id COLLATE "C");
-- getTask's deadLettered and the dead-letter actions look letters up by task id
CREATE INDEX dead_letters_task ON S.dead_letters (id);
`,
  },
  {
    // one-statement transitions write their events in SQL: the changed row's columns
    // as JSON (row_json), which readers decode as any row; info stays for events written
    // in JavaScript (a TaskInfo). Additive: old rows keep their info.
    version: 3,
    sql: `
ALTER TABLE S.events ALTER COLUMN info DROP NOT NULL;
ALTER TABLE S.events ADD COLUMN row_json text;
-- NewTask.priority: higher first within a queue; the claim walks tasks_ready
-- (tasks_claimable stays for the next due time and the waiting count)
ALTER TABLE S.tasks ADD COLUMN priority integer NOT NULL DEFAULT 0;
-- NewTask.group and NewTask.limits (flow control): fair_group is set on every
-- flow-controlled task ('' when it has limits but no group), so plain tasks
-- (fair_group NULL) keep tasks_ready and the one-statement claim to themselves
ALTER TABLE S.tasks ADD COLUMN fair_group text;
-- JSON [{key, limit}], and the keys again as columns: a key's running tasks are counted by index
ALTER TABLE S.tasks ADD COLUMN limits text;
ALTER TABLE S.tasks ADD COLUMN limit_key1 text;
ALTER TABLE S.tasks ADD COLUMN limit_key2 text;
ALTER TABLE S.tasks ADD COLUMN limit_key3 text;
ALTER TABLE S.tasks ADD COLUMN limit_key4 text;
-- NewTask.rateLimits as JSON [{key, limit, perMs}] (a task with rate limits is flow-controlled too)
ALTER TABLE S.tasks ADD COLUMN rate_limits text;
CREATE INDEX tasks_ready ON S.tasks (queue, priority DESC, run_at, seq)
  WHERE state IN ('PENDING', 'RETRY') AND fair_group IS NULL;
-- the flow-controlled waiting tasks: a group's head is one probe
CREATE INDEX tasks_fair ON S.tasks (queue, priority DESC, fair_group, run_at, seq)
  WHERE state IN ('PENDING', 'RETRY') AND fair_group IS NOT NULL;
-- whether a group has a task running (it then keeps its turn)
CREATE INDEX tasks_fair_running ON S.tasks (queue, priority, fair_group)
  WHERE fair_group IS NOT NULL AND state IN ('STARTED', 'PROGRESS');
-- a key's running tasks, whichever limit column holds it (a slot frees when its row leaves running)
CREATE INDEX tasks_running_key1 ON S.tasks (limit_key1) WHERE limit_key1 IS NOT NULL AND state IN ('STARTED', 'PROGRESS');
CREATE INDEX tasks_running_key2 ON S.tasks (limit_key2) WHERE limit_key2 IS NOT NULL AND state IN ('STARTED', 'PROGRESS');
CREATE INDEX tasks_running_key3 ON S.tasks (limit_key3) WHERE limit_key3 IS NOT NULL AND state IN ('STARTED', 'PROGRESS');
CREATE INDEX tasks_running_key4 ON S.tasks (limit_key4) WHERE limit_key4 IS NOT NULL AND state IN ('STARTED', 'PROGRESS');
-- the groups' rotation per queue and priority: lowest turn goes next, a served group takes max + 1
CREATE TABLE S.fair_turns (
  queue      text    NOT NULL,
  priority   integer NOT NULL,
  fair_group text    NOT NULL,
  turn       bigint  NOT NULL,
  PRIMARY KEY (queue, priority, fair_group)
);
CREATE INDEX fair_turns_order ON S.fair_turns (queue, priority, turn);
-- per rate-limit key: its latest claim times (JSON array, ascending), enough for the
-- largest limit (keep_n) and longest window (keep_ms) it was claimed under, and the
-- end of a hold (holdRateLimit); written under the flow lock; pruned at idle_at
CREATE TABLE S.rate_keys (
  key        text    PRIMARY KEY,
  hits       text    NOT NULL,
  keep_ms    bigint  NOT NULL,
  keep_n     integer NOT NULL,
  held_until bigint  NOT NULL,
  idle_at    bigint  NOT NULL
);
CREATE INDEX rate_keys_idle ON S.rate_keys (idle_at);
`,
  },
  {
    // NewTask.debounce: the key and cap (maxRunAt); the one task per key that may
    // still absorb enqueues (waiting, never handed out) is unique, so racing
    // enqueues of a key insert one (ON CONFLICT) and fold the others into it.
    // NewTask.aging: the rule, and when the task is looked at next (NULL: it
    // rises no more), walked by agePriorities
    version: 4,
    sql: `
ALTER TABLE S.tasks ADD COLUMN debounce_key text;
ALTER TABLE S.tasks ADD COLUMN debounce_until bigint;
CREATE UNIQUE INDEX tasks_debounce ON S.tasks (debounce_key)
  WHERE debounce_key IS NOT NULL AND state = 'PENDING' AND started_at IS NULL;
ALTER TABLE S.tasks ADD COLUMN aging_every bigint;
ALTER TABLE S.tasks ADD COLUMN aging_step integer;
ALTER TABLE S.tasks ADD COLUMN aging_max integer;
ALTER TABLE S.tasks ADD COLUMN aging_next bigint;
CREATE INDEX tasks_aging ON S.tasks (aging_next) WHERE aging_next IS NOT NULL AND state IN ('PENDING', 'RETRY');
`,
  },
];

/** The advisory lock classes (first key; the second is hashtext(schema)). */
export const LOCK_MIGRATE = 0x6572_0001;
export const LOCK_EVENTS = 0x6572_0002;
/** Flow-controlled claims and enqueues of a schema, one at a time (limit counts and fair_turns). */
export const LOCK_FLOW = 0x6572_0003;

/**
 * Brings the schema up to date: one transaction under a transaction-level
 * advisory lock of the schema, so processes opening a fresh schema at once
 * wait for the first, then find nothing to do.
 */
export async function migrate(client: PoolClient, schema: string, quoted: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_MIGRATE, schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${quoted}.schema_version`);
    const current = rows[0]?.v ?? 0;
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql.replace(/\bS\./g, `${quoted}.`));
      await client.query(`INSERT INTO ${quoted}.schema_version (version) VALUES ($1)`, [migration.version]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
