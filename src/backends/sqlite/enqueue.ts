import type { EnqueueOutcome, NewTask } from '../../core/backend.js';
import type { Db } from './database.js';
import { JOIN_SQL } from './fair-claim.js';
import { INFO_JSON } from './rows.js';

export interface Inserted {
  outcome: EnqueueOutcome;
  /**
   * The TaskInfo JSON of a change to publish: a created tagged task's
   * (PENDING, version 1: its tag feeds' first change), or the waiting task a
   * debounced enqueue folded into.
   */
  info?: string;
}

/** Inserting new tasks, honouring idempotency keys. Run inside a write transaction. */
export class EnqueueQueries {
  private readonly byKeyStmt;
  private readonly dropStmt;
  private readonly insertStmt;
  private readonly insertTaggedStmt;
  private readonly insertFlowStmt;
  private readonly followUpStmt;
  private readonly joinStmt;
  private readonly debounceHitStmt;
  private readonly debounceMarkStmt;
  private readonly agingMarkStmt;

  constructor(db: Db) {
    this.byKeyStmt = db.prepare<[string], { id: string; name: string; payload: string; purge_at: number | null }>(
      'SELECT id, name, payload, purge_at FROM tasks WHERE idempotency_key = ?',
    );
    this.dropStmt = db.prepare<[string]>('DELETE FROM tasks WHERE id = ?');
    const insert = (
      flow: string,
      values: string,
    ) => `INSERT INTO tasks (id, name, queue, state, version, payload, enqueued_at, run_at,
         expires_at, idempotency_key, tags, follow_up, trace, priority${flow})
       VALUES (@id, @name, @queue, 'PENDING', 1, @payload, @enqueuedAt, @runAt, @expiresAt, @idempotencyKey, @tags, @followUp, @trace,
         @priority${values})`;
    this.insertStmt = db.prepare<[Record<string, unknown>]>(insert('', ''));
    // a tagged task's enqueue is a change of its tag feeds: it needs its TaskInfo for the event
    this.insertTaggedStmt = db.prepare<[Record<string, unknown>], string>(`${insert('', '')} RETURNING ${INFO_JSON}`).pluck();
    // a statement of its own, so a plain task binds and stores none of these
    this.insertFlowStmt = db
      .prepare<[Record<string, unknown>], string>(
        `${insert(
          ', fair_group, limits, limit_key1, limit_key2, limit_key3, limit_key4, rate_limits',
          ', @group, @limits, @key1, @key2, @key3, @key4, @rateLimits',
        )} RETURNING ${INFO_JSON}`,
      )
      .pluck();
    // the waiting, never started task of the key takes the enqueue (NewTask.debounce)
    this.debounceHitStmt = db
      .prepare<[{ key: string; now: number; runAt: number; replace: number; payload: string }], [string, string]>(
        `UPDATE tasks SET version = version + 1,
           run_at = CASE WHEN run_at > @now THEN min(@runAt, coalesce(debounce_until, @runAt)) ELSE run_at END,
           payload = CASE WHEN @replace = 1 THEN @payload ELSE payload END
         WHERE debounce_key = @key AND state = 'PENDING' AND started_at IS NULL
         RETURNING id, ${INFO_JSON}`,
      )
      .raw();
    // a statement of its own, so the insert statements bind nothing for it
    this.debounceMarkStmt = db.prepare<[{ id: string; key: string; until: number | null }]>(
      'UPDATE tasks SET debounce_key = @key, debounce_until = @until WHERE id = @id',
    );
    this.agingMarkStmt = db.prepare<[{ id: string; every: number; step: number; max: number; next: number }]>(
      'UPDATE tasks SET aging_every = @every, aging_step = @step, aging_max = @max, aging_next = @next WHERE id = @id',
    );
    this.joinStmt = db.prepare<[{ queue: string; priority: number; group: string }]>(JOIN_SQL);
    // OR IGNORE: an existing id is left alone (and a follow-up a raw client garbled is dropped, not a failed transition)
    this.followUpStmt = db.prepare<[{ followUp: string; at: number }]>(
      `INSERT OR IGNORE INTO tasks (id, name, queue, state, version, payload, enqueued_at, run_at)
       SELECT json_extract(@followUp, '$.id'), json_extract(@followUp, '$.name'), json_extract(@followUp, '$.queue'),
              'PENDING', 1, json_extract(@followUp, '$.payload'), @at, @at
       WHERE json_valid(@followUp)`,
    );
  }

  /** Inside one transaction, a later task with an earlier one's key sees that one (a batch dedupes itself). */
  insert(task: NewTask, now: number): Inserted {
    if (task.idempotencyKey !== undefined) {
      const existing = this.byKeyStmt.get(task.idempotencyKey);
      if (existing && (existing.purge_at === null || existing.purge_at > now)) {
        // the key reused for other work: reported, not merged silently
        const outcome: EnqueueOutcome =
          existing.payload === task.payload && existing.name === task.name
            ? { id: existing.id, created: false }
            : { id: existing.id, created: false, conflict: true };
        return { outcome };
      }
      // its result expired: the task is unknown already, only prune has not run yet
      if (existing) this.dropStmt.run(existing.id);
    }
    const { debounce } = task;
    if (debounce !== undefined) {
      const hit = this.debounceHitStmt.get({
        key: debounce.key,
        now,
        runAt: task.runAt,
        replace: debounce.replace ? 1 : 0,
        payload: task.payload,
      });
      if (hit) return { outcome: { id: hit[0], created: false }, info: hit[1] };
      const inserted = this.store(task);
      this.debounceMarkStmt.run({ id: task.id, key: debounce.key, until: debounce.maxRunAt ?? null });
      return inserted;
    }
    return this.store(task);
  }

  /** The row, and an aging task's rule (a statement of its own: the inserts bind nothing for it). */
  private store(task: NewTask): Inserted {
    const inserted = this.insertRow(task);
    const { aging } = task;
    if (aging !== undefined) {
      const { everyMs: every, step, max } = aging;
      this.agingMarkStmt.run({ id: task.id, every, step, max, next: task.runAt + every });
    }
    return inserted;
  }

  private insertRow(task: NewTask): Inserted {
    const tagged = task.tags !== undefined && task.tags.length > 0;
    const { followUp } = task;
    const row = {
      id: task.id,
      name: task.name,
      queue: task.queue,
      payload: task.payload,
      enqueuedAt: task.enqueuedAt,
      runAt: task.runAt,
      expiresAt: task.expiresAt ?? null,
      idempotencyKey: task.idempotencyKey ?? null,
      tags: tagged ? JSON.stringify(task.tags) : null,
      trace: task.trace ?? null,
      priority: task.priority ?? 0,
      // only the four fields insertFollowUp reads
      followUp:
        followUp === undefined
          ? null
          : JSON.stringify({ id: followUp.id, name: followUp.name, queue: followUp.queue, payload: followUp.payload }),
    };
    const outcome = { id: task.id, created: true };
    if (task.group !== undefined || task.limits !== undefined || task.rateLimits !== undefined) {
      const info = this.insertFlow(task, row);
      return tagged ? { outcome, info } : { outcome };
    }
    if (!tagged) {
      this.insertStmt.run(row);
      return { outcome };
    }
    return { outcome, info: this.insertTaggedStmt.get(row)! };
  }

  /** A task with a group, limits or rate limits: its group joins the rotation, then the row goes in with them. */
  private insertFlow(task: NewTask, row: Record<string, unknown>): string {
    const limits = task.limits ?? [];
    const rates = task.rateLimits ?? [];
    // a task with limits but no group is in the '' group (NULL is a plain task: the claim's fast path)
    const group = task.group ?? '';
    // before the insert: "waiting already" means the group's other tasks
    this.joinStmt.run({ queue: task.queue, priority: task.priority ?? 0, group });
    return this.insertFlowStmt.get({
      ...row,
      group,
      limits: limits.length === 0 ? null : JSON.stringify(limits.map(({ key, limit }) => ({ key, limit }))),
      key1: limits[0]?.key ?? null,
      key2: limits[1]?.key ?? null,
      key3: limits[2]?.key ?? null,
      key4: limits[3]?.key ?? null,
      rateLimits: rates.length === 0 ? null : JSON.stringify(rates.map(({ key, limit, perMs }) => ({ key, limit, perMs }))),
    })!;
  }

  /** The follow-up (tasks.follow_up JSON) of a task that just ended at `at`: PENDING, due at once; true when created. */
  insertFollowUp(followUp: string, at: number): boolean {
    return this.followUpStmt.run({ followUp, at }).changes > 0;
  }
}
