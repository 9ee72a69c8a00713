import type { EnqueueOutcome, NewTask } from '../../core/backend.js';
import type { Db } from './database.js';

/** Inserting new tasks, honouring idempotency keys. Run inside a write transaction. */
export class EnqueueQueries {
  private readonly byKeyStmt;
  private readonly dropStmt;
  private readonly insertStmt;

  constructor(db: Db) {
    this.byKeyStmt = db.prepare<[string], { id: string; name: string; payload: string; purge_at: number | null }>(
      'SELECT id, name, payload, purge_at FROM tasks WHERE idempotency_key = ?',
    );
    this.dropStmt = db.prepare<[string]>('DELETE FROM tasks WHERE id = ?');
    this.insertStmt = db.prepare<[Record<string, unknown>]>(
      `INSERT INTO tasks (id, name, queue, state, version, payload, enqueued_at, run_at, expires_at, idempotency_key)
       VALUES (@id, @name, @queue, 'PENDING', 1, @payload, @enqueuedAt, @runAt, @expiresAt, @idempotencyKey)`,
    );
  }

  /** Inside one transaction, a later task with an earlier one's key sees that one (a batch dedupes itself). */
  insert(task: NewTask, now: number): EnqueueOutcome {
    if (task.idempotencyKey !== undefined) {
      const existing = this.byKeyStmt.get(task.idempotencyKey);
      if (existing && (existing.purge_at === null || existing.purge_at > now)) {
        // the key reused for other work: reported, not merged silently
        return existing.payload === task.payload && existing.name === task.name
          ? { id: existing.id, created: false }
          : { id: existing.id, created: false, conflict: true };
      }
      // its result expired: the task is unknown already, only prune has not run yet
      if (existing) this.dropStmt.run(existing.id);
    }
    this.insertStmt.run({
      id: task.id,
      name: task.name,
      queue: task.queue,
      payload: task.payload,
      enqueuedAt: task.enqueuedAt,
      runAt: task.runAt,
      expiresAt: task.expiresAt ?? null,
      idempotencyKey: task.idempotencyKey ?? null,
    });
    return { id: task.id, created: true };
  }
}
