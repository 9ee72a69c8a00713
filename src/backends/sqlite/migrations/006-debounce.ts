/**
 * Schema version 6: debounce (NewTask.debounce). Additive: a version-5 file
 * upgrades in place, its tasks untouched (none debounced).
 */
export const DEBOUNCE_SQL = `
-- NewTask.debounce's key and cap (maxRunAt), NULL when the task is not debounced
ALTER TABLE tasks ADD COLUMN debounce_key TEXT;
ALTER TABLE tasks ADD COLUMN debounce_until INTEGER;
-- the one task per key that may still absorb enqueues: waiting, never handed out
-- (unique, so a bug could never leave two; a rerun clears the key)
CREATE UNIQUE INDEX tasks_debounce ON tasks (debounce_key)
  WHERE debounce_key IS NOT NULL AND state = 'PENDING' AND started_at IS NULL;
`;
