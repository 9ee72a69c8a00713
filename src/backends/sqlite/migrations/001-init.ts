/**
 * Schema version 1. Kept as a string in a .ts module (not a .sql file) so it
 * ships in dist without a copy step and reads the same from src and dist.
 */
export const INIT_SQL = `
CREATE TABLE tasks (
  -- the rowid: enqueue order, the tie-break between tasks due at the same time
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT    NOT NULL UNIQUE,
  name            TEXT    NOT NULL,
  queue           TEXT    NOT NULL,
  state           TEXT    NOT NULL,
  version         INTEGER NOT NULL,
  payload         TEXT    NOT NULL,
  result_json     TEXT,
  error_json      TEXT,
  progress_json   TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  retries         INTEGER NOT NULL DEFAULT 0,
  enqueued_at     INTEGER NOT NULL,
  run_at          INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  expires_at      INTEGER,
  idempotency_key TEXT,
  lease_owner     TEXT,
  lease_until     INTEGER,
  -- finished tasks: when the result expires (getInfo forgets it, prune deletes it)
  purge_at        INTEGER
);

-- Claim walks this in due order without sorting; partial, so it holds only
-- claimable tasks and finished ones cost nothing to skip.
CREATE INDEX tasks_claimable ON tasks (queue, run_at) WHERE state IN ('PENDING', 'RETRY');
CREATE INDEX tasks_leased ON tasks (lease_until) WHERE lease_until IS NOT NULL;
CREATE INDEX tasks_purge ON tasks (purge_at) WHERE purge_at IS NOT NULL;
-- one task per key; the key goes when its task row is deleted
CREATE UNIQUE INDEX tasks_idempotency ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Every transition, in commit order: how other processes hear about them.
CREATE TABLE events (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id  TEXT    NOT NULL,
  -- the backend instance that wrote it (it has already told its own listeners)
  origin   TEXT    NOT NULL,
  at       INTEGER NOT NULL,
  -- 1 when a running task was revoked: revocation listeners must hear it
  revoked  INTEGER NOT NULL DEFAULT 0,
  info     TEXT    NOT NULL
);
CREATE INDEX events_at ON events (at);

CREATE TABLE dead_letters (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  id         TEXT    NOT NULL,
  name       TEXT    NOT NULL,
  queue      TEXT    NOT NULL,
  payload    TEXT    NOT NULL,
  error_json TEXT    NOT NULL,
  at         INTEGER NOT NULL
);
`;
