/**
 * Schema version 6: debounce (NewTask.debounce) and priority aging
 * (NewTask.aging). Additive: a version-5 file upgrades in place, its tasks
 * untouched (none debounced, none aging).
 */
export const DEBOUNCE_AGING_SQL = `
-- NewTask.debounce's key and cap (maxRunAt), NULL when the task is not debounced
ALTER TABLE tasks ADD COLUMN debounce_key TEXT;
ALTER TABLE tasks ADD COLUMN debounce_until INTEGER;
-- the one task per key that may still absorb enqueues: waiting, never handed out
-- (unique, so a bug could never leave two; a rerun clears the key)
CREATE UNIQUE INDEX tasks_debounce ON tasks (debounce_key)
  WHERE debounce_key IS NOT NULL AND state = 'PENDING' AND started_at IS NULL;

-- NewTask.aging, and when the task is looked at next (NULL: it rises no more)
ALTER TABLE tasks ADD COLUMN aging_every INTEGER;
ALTER TABLE tasks ADD COLUMN aging_step INTEGER;
ALTER TABLE tasks ADD COLUMN aging_max INTEGER;
ALTER TABLE tasks ADD COLUMN aging_next INTEGER;
-- the sweep (agePriorities) walks the waiting tasks whose time has come
CREATE INDEX tasks_aging ON tasks (aging_next) WHERE aging_next IS NOT NULL AND state IN ('PENDING', 'RETRY');
`;
