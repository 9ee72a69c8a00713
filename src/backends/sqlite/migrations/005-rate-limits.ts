/**
 * Schema version 5: rate limits (NewTask.rateLimits, Backend.holdRateLimit).
 * Additive: a version-4 file upgrades in place, its tasks untouched (no
 * rate limits).
 */
export const RATE_LIMITS_SQL = `
-- NewTask.rateLimits as JSON [{"key","limit","perMs"}], NULL when none; a
-- task with rate limits is flow-controlled (fair_group '' when it has no group)
ALTER TABLE tasks ADD COLUMN rate_limits TEXT;

-- per rate-limit key: its latest claim times (JSON array, ascending), enough
-- of them for the largest limit (keep_n) and longest window (keep_ms) it was
-- claimed under, and the end of a hold (Backend.holdRateLimit); written by
-- the claim in its write transaction, so one writer at a time
CREATE TABLE rate_keys (
  key        TEXT    PRIMARY KEY,
  hits       TEXT    NOT NULL,
  keep_ms    INTEGER NOT NULL,
  keep_n     INTEGER NOT NULL,
  held_until INTEGER NOT NULL,
  -- when the row stops mattering (the last hit keep_ms old, the hold over): prune deletes it then
  idle_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_keys_idle ON rate_keys (idle_at);
`;
