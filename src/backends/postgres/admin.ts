import { setTimeout as sleep } from 'node:timers/promises';
import type { QueryResultRow } from 'pg';
import type {
  BackendAdmin,
  BrokerOverview,
  CountBucket,
  QueueSummary,
  TaskPage,
  TaskQuery,
  TaskRecord,
} from '../../core/admin/admin-backend.js';
import { emptyStateCounts } from '../../core/admin/task-query.js';
import { now } from '../../core/clock.js';
import { RUNNING_STATES, TASK_STATES, type TaskState } from '../../core/states.js';
import type { DeadLetter } from '../../core/types.js';
import { taskListSql, taskPage } from '../shared/task-list-sql.js';
import type { AdminSql } from './admin-queries.js';
import { decodeRow, isExpired, type TaskRow } from './rows.js';

/** What PostgresAdmin needs of the postgres broker: its transitions, so admin actions publish like every other change. */
export interface PostgresStore {
  readonly sql: AdminSql;
  assertOpen(): void;
  /** One statement on the pool once the schema is migrated; driver errors wrapped as the backend's are. */
  query<R extends QueryResultRow>(what: string, text: string, values: unknown[]): Promise<R[]>;
  /**
   * Runs `fn` in a write transaction, batched with this turn's other writes
   * (`own`: a transaction of its own); its events and notifications are
   * published in it, and delivered here after the commit.
   */
  write<T>(what: string, fn: (tx: PostgresTx) => Promise<T>, own?: boolean): Promise<T>;
}

/** The statements and transitions an admin action runs inside a write transaction. */
export interface PostgresTx {
  query<R extends QueryResultRow>(text: string, values: unknown[]): Promise<R[]>;
  /** Up to `limit` waiting tasks of `queue` REVOKED as revoke() ends them (follow-ups, events); how many. */
  revokeWaiting(queue: string, limit: number): Promise<number>;
  /** The kept FAILURE or REVOKED tasks among `ids` back to PENDING, due now, published; the ids moved. */
  rerun(ids: readonly string[]): Promise<Set<string>>;
  /** Whether the task is kept (known and not expired); locks its row. */
  known(id: string): Promise<boolean>;
  /** Stores a new PENDING task as enqueue does (an expired row of that id is dropped first). */
  enqueue(letter: Pick<DeadLetter, 'id' | 'name' | 'queue' | 'payload' | 'trace'>): Promise<void>;
  /** Claimers of `queue`, in every process, look again after the commit. */
  wake(queue: string): void;
}

interface OverviewRow {
  queue: string;
  /** NULL: a paused queue's row. */
  state: string | null;
  n: number;
  ready: number;
  oldest_ready: number | null;
}

/** Waiting tasks revoked per transaction by purgeQueue. */
const PURGE_BATCH = 500;
const STATES: ReadonlySet<string> = new Set(TASK_STATES);
const ID_C = 'id COLLATE "C"';

/** BackendAdmin for the postgres broker. */
export class PostgresAdmin implements BackendAdmin {
  constructor(private readonly store: PostgresStore) {}

  private get sql(): AdminSql {
    return this.store.sql;
  }

  async overview(): Promise<BrokerOverview> {
    this.store.assertOpen();
    const rows = await this.store.query<OverviewRow>('overview', this.sql.overview, [now()]);
    const states = emptyStateCounts();
    const queues = new Map<string, QueueSummary>();
    for (const row of rows) {
      let q = queues.get(row.queue);
      if (!q) queues.set(row.queue, (q = { queue: row.queue, ready: 0, scheduled: 0, running: 0, paused: false }));
      if (row.state === null) {
        q.paused = true;
        continue;
      }
      // a state a raw client garbled reads as a FAILURE everywhere else
      const state = (STATES.has(row.state) ? row.state : 'FAILURE') as TaskState;
      states[state] += row.n;
      if (state === 'PENDING' || state === 'RETRY') {
        q.ready += row.ready;
        q.scheduled += row.n - row.ready;
        if (row.oldest_ready !== null && (q.oldestReadyAt === undefined || row.oldest_ready < q.oldestReadyAt)) {
          q.oldestReadyAt = row.oldest_ready;
        }
      } else if (RUNNING_STATES.has(state)) q.running += row.n;
    }
    return { queues: [...queues.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1)), states };
  }

  async listTasks(query: TaskQuery): Promise<TaskPage> {
    this.store.assertOpen();
    const { where, order, params } = taskListSql(query, now(), { param: (n) => `$${n}`, id: ID_C });
    const rows = await this.store.query<TaskRow>('listTasks', this.sql.list(where, order), params);
    return taskPage(
      rows.map((row) => decodeRow(row).info),
      query.limit,
    );
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    this.store.assertOpen();
    const [row] = await this.store.query<TaskRow & { dead_lettered: boolean }>('getTask', this.sql.record, [id]);
    if (!row || isExpired(row, now())) return null;
    const record: TaskRecord = { info: decodeRow(row).info, payload: row.payload, deadLettered: row.dead_lettered };
    if (row.trace !== null) record.trace = row.trace;
    return record;
  }

  async retryTasks(ids: readonly string[]): Promise<string[]> {
    this.store.assertOpen();
    return this.store.write('retryTasks', async (tx) => {
      // one statement: an id listed twice moves once
      const moved = await tx.rerun(ids);
      return [...new Set(ids)].filter((id) => moved.has(id));
    });
  }

  /** In short transactions of their own with pauses between them (as prune): no long transaction however big the queue. */
  async purgeQueue(queue: string): Promise<number> {
    this.store.assertOpen();
    let total = 0;
    for (;;) {
      const started = performance.now();
      const revoked = await this.store.write('purgeQueue', (tx) => tx.revokeWaiting(queue, PURGE_BATCH), true);
      total += revoked;
      if (revoked < PURGE_BATCH) return total;
      await sleep(Math.max(2, performance.now() - started));
      this.store.assertOpen();
    }
  }

  async setQueuePaused(queue: string, paused: boolean): Promise<void> {
    this.store.assertOpen();
    await this.store.write('setQueuePaused', async (tx) => {
      if (paused) await tx.query(this.sql.pause, [queue, now()]);
      else {
        await tx.query(this.sql.resume, [queue]);
        tx.wake(queue);
      }
    });
  }

  async pausedQueues(): Promise<string[]> {
    this.store.assertOpen();
    return (await this.store.query<{ queue: string }>('pausedQueues', this.sql.paused, [])).map((row) => row.queue);
  }

  async retryDeadLetters(ids: readonly string[]): Promise<string[]> {
    this.store.assertOpen();
    return this.store.write('retryDeadLetters', async (tx) => {
      const requeued: string[] = [];
      for (const id of new Set(ids)) {
        const letters = await tx.query<
          Pick<DeadLetter, 'id' | 'name' | 'queue' | 'payload'> & { seq: number; trace: string | null }
        >(this.sql.takeDeadLetters, [id]);
        if (letters.length === 0) continue;
        const { trace, ...latest } = letters.reduce((a, b) => (b.seq > a.seq ? b : a));
        if (!(await tx.rerun([id])).has(id) && !(await tx.known(id)))
          await tx.enqueue({ ...latest, ...(trace === null ? {} : { trace }) });
        requeued.push(id);
      }
      return requeued;
    });
  }

  async dropDeadLetters(ids: readonly string[]): Promise<number> {
    this.store.assertOpen();
    const [row] = await this.store.query<{ n: number }>('dropDeadLetters', this.sql.dropDeadLetters, [[...new Set(ids)]]);
    return row!.n;
  }

  async putRecords(kind: string, records: ReadonlyArray<{ id: string; json: string }>, ttlMs: number): Promise<void> {
    this.store.assertOpen();
    // one row per id (a later one wins), as ON CONFLICT cannot change a row twice in one statement
    const byId = new Map(records.map((record) => [record.id, record.json]));
    await this.store.query('putRecords', this.sql.putRecords, [
      kind,
      [...byId.keys()],
      [...byId.values()],
      Math.ceil(now() + ttlMs),
    ]);
  }

  async listRecords(kind: string, idPrefix = ''): Promise<Array<{ id: string; json: string }>> {
    this.store.assertOpen();
    return this.store.query<{ id: string; json: string }>('listRecords', this.sql.listRecords, [kind, idPrefix, now()]);
  }

  async deleteRecord(kind: string, id: string): Promise<void> {
    this.store.assertOpen();
    await this.store.query('deleteRecord', this.sql.deleteRecord, [kind, id]);
  }

  async addCounts(bucket: number, deltas: Readonly<Record<string, number>>, retainMs: number): Promise<void> {
    this.store.assertOpen();
    const entries = Object.entries(deltas);
    if (entries.length === 0) return;
    await this.store.query('addCounts', this.sql.addCounts, [
      bucket,
      entries.map(([key]) => key),
      entries.map(([, delta]) => delta),
      Math.ceil(bucket + retainMs),
    ]);
  }

  async readCounts(since: number): Promise<CountBucket[]> {
    this.store.assertOpen();
    const rows = await this.store.query<{ bucket: number; key: string; value: number }>('readCounts', this.sql.readCounts, [
      since,
      now(),
    ]);
    const buckets: CountBucket[] = [];
    for (const { bucket, key, value } of rows) {
      let last = buckets.at(-1);
      if (last?.bucket !== bucket) buckets.push((last = { bucket, counts: {} }));
      last.counts[key] = value;
    }
    return buckets;
  }

  async appendLog(kind: string, json: string, keep: number): Promise<void> {
    this.store.assertOpen();
    await this.store.write('appendLog', async (tx) => {
      await tx.query(this.sql.appendLog, [kind, json]);
      await tx.query(this.sql.trimLog, [kind, Math.max(0, Math.floor(keep))]);
    });
  }

  async readLog(kind: string, limit: number): Promise<string[]> {
    this.store.assertOpen();
    if (limit <= 0) return [];
    const rows = await this.store.query<{ json: string }>('readLog', this.sql.readLog, [kind, Math.floor(limit)]);
    return rows.map((row) => row.json);
  }
}
