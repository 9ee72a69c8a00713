/**
 * Schema version 2: tags and tag feeds, follow-up tasks. Additive, so a
 * version-1 file upgrades in place (its tasks simply have neither).
 */
export const TAGS_FOLLOW_UPS_SQL = `
-- JSON array of distinct strings, NULL when the task has none (TaskInfo.tags)
ALTER TABLE tasks ADD COLUMN tags TEXT;
-- JSON {id, name, queue, payload}: the task its first terminal transition enqueues
ALTER TABLE tasks ADD COLUMN follow_up TEXT;
-- the tags of the task an event is about (NULL: untagged), so tag listeners
-- read only tagged events and parse nothing else
ALTER TABLE events ADD COLUMN tags TEXT;

-- One row per tag of a task; seq is the events seq of the task's latest
-- change, the tag feed's cursor.
CREATE TABLE task_tags (
  tag     TEXT    NOT NULL,
  task_id TEXT    NOT NULL,
  seq     INTEGER NOT NULL,
  PRIMARY KEY (tag, task_id)
) WITHOUT ROWID;
CREATE INDEX task_tags_feed ON task_tags (tag, seq);
CREATE INDEX task_tags_task ON task_tags (task_id);

-- A deleted task (prune, or enqueue dropping an expired key holder) leaves
-- its tag feeds in the same statement.
CREATE TRIGGER tasks_untag AFTER DELETE ON tasks WHEN OLD.tags IS NOT NULL
BEGIN
  DELETE FROM task_tags WHERE task_id = OLD.id;
END;
`;
