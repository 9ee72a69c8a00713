import type { TagFeedPage } from '../../core/backend.js';
import type { Db } from './database.js';
import { INFO_JSON, parseInfo } from './rows.js';

/**
 * The task_tags table: per tag, each task once, at the events seq of its
 * latest change (the feed's cursor). Rows of deleted tasks go with them
 * (the tasks_untag trigger of migration 002).
 */
export class TagFeedQueries {
  private readonly moveStmt;
  private readonly pageStmt;

  constructor(db: Db) {
    // one statement for a new task and a changed one: each tag's row moves to `seq`
    this.moveStmt = db.prepare<[{ id: string; tags: string; seq: number }]>(
      `INSERT INTO task_tags (tag, task_id, seq) SELECT value, @id, @seq FROM json_each(@tags) WHERE true
       ON CONFLICT (tag, task_id) DO UPDATE SET seq = excluded.seq`,
    );
    // walks task_tags_feed in cursor order; a task whose result expired is unknown, even before prune
    this.pageStmt = db.prepare<[{ tag: string; after: number; now: number; limit: number }], { cursor: number; info: string }>(
      `SELECT task_tags.seq AS cursor, ${INFO_JSON} AS info
       FROM task_tags JOIN tasks ON tasks.id = task_tags.task_id
       WHERE task_tags.tag = @tag AND task_tags.seq > @after AND (tasks.purge_at IS NULL OR tasks.purge_at > @now)
       ORDER BY task_tags.seq LIMIT @limit`,
    );
  }

  /** Records that the task's latest change is event `seq`; `tags` is its tags as a JSON array. */
  move(id: string, tags: string, seq: number): void {
    this.moveStmt.run({ id, tags, seq });
  }

  page(tag: string, after: number, limit: number, now: number): TagFeedPage {
    const wanted = Math.max(0, Math.floor(limit));
    // one row more than asked tells whether the page ends before the newest change
    const rows = this.pageStmt.all({ tag, after, now, limit: wanted + 1 });
    const entries = rows.slice(0, wanted).map((row) => ({ cursor: row.cursor, info: parseInfo(row.info) }));
    return { entries, cursor: entries.at(-1)?.cursor ?? after, more: rows.length > wanted };
  }
}
