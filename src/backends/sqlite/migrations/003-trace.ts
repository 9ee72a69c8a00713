/**
 * Schema version 3: the trace context a task was enqueued under
 * (NewTask.trace), handed back on every delivery and kept in its dead letter.
 * Additive: older rows simply have none.
 */
export const TRACE_SQL = `
ALTER TABLE tasks ADD COLUMN trace TEXT;
ALTER TABLE dead_letters ADD COLUMN trace TEXT;
`;
