import { setTimeout as sleep } from 'node:timers/promises';
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
import { taskPage } from '../shared/task-list-sql.js';
import { AdminQueries } from './admin-queries.js';
import { BookkeepingQueries } from './bookkeeping.js';
import type { Db } from './database.js';
import { DeadLetterQueries } from './dead-letters.js';
import { parseInfo } from './rows.js';

/** What SqliteAdmin needs of the sqlite broker: its transitions, so admin actions publish like every other change. */
export interface SqliteStore {
  readonly db: Db;
  assertOpen(): void;
  /** Runs `fn` in a write transaction (coalesced with this turn's writes); its changes are delivered after the commit. */
  write<T>(fn: () => T): Promise<T>;
  /** Inside a write: up to `limit` waiting tasks of `queue` REVOKED as revoke() ends them (follow-ups, events); how many. */
  revokeWaiting(queue: string, limit: number): number;
  /** Inside a write: a kept FAILURE or REVOKED task back to PENDING, due now, published; false when it is not one. */
  rerun(id: string): boolean;
  /** Inside a write: whether the task is kept (known and not expired). */
  known(id: string): boolean;
  /** Inside a write: stores a new PENDING task as enqueue does. */
  enqueue(letter: DeadLetter): void;
  /** Inside a write: this process's waiting claims look again after the commit. */
  wake(): void;
}

/** Waiting tasks revoked per transaction by purgeQueue: a few ms of holding the write lock. */
const PURGE_BATCH = 500;
const STATES: ReadonlySet<string> = new Set(TASK_STATES);

/** BackendAdmin for the sqlite broker. */
export class SqliteAdmin implements BackendAdmin {
  private readonly queries: AdminQueries;
  private readonly bookkeeping: BookkeepingQueries;
  private readonly deadLetters: DeadLetterQueries;

  constructor(private readonly store: SqliteStore) {
    this.queries = new AdminQueries(store.db);
    this.bookkeeping = new BookkeepingQueries(store.db);
    this.deadLetters = new DeadLetterQueries(store.db);
  }

  async overview(): Promise<BrokerOverview> {
    this.store.assertOpen();
    const { rows, paused } = this.queries.overview(now());
    const states = emptyStateCounts();
    const queues = new Map<string, QueueSummary>();
    const summary = (queue: string): QueueSummary => {
      let q = queues.get(queue);
      if (!q) queues.set(queue, (q = { queue, ready: 0, scheduled: 0, running: 0, paused: false }));
      return q;
    };
    for (const queue of paused) summary(queue).paused = true;
    for (const row of rows) {
      // a state a raw client garbled reads as a FAILURE everywhere else
      const state = (STATES.has(row.state) ? row.state : 'FAILURE') as TaskState;
      states[state] += row.n;
      const q = summary(String(row.queue));
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
    return taskPage(this.queries.list(query, now()).map(parseInfo), query.limit);
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    this.store.assertOpen();
    const row = this.queries.record(id);
    if (!row || (row.purge_at !== null && row.purge_at <= now())) return null;
    const record: TaskRecord = { info: parseInfo(row.info), payload: row.payload, deadLettered: row.dead === 1 };
    if (typeof row.trace === 'string') record.trace = row.trace;
    return record;
  }

  async retryTasks(ids: readonly string[]): Promise<string[]> {
    this.store.assertOpen();
    return this.store.write(() => ids.filter((id) => this.store.rerun(id)));
  }

  /** In short transactions with pauses between them (as prune), so other writers get the lock however big the queue. */
  async purgeQueue(queue: string): Promise<number> {
    this.store.assertOpen();
    let total = 0;
    for (;;) {
      const started = performance.now();
      const revoked = await this.store.write(() => this.store.revokeWaiting(queue, PURGE_BATCH));
      total += revoked;
      if (revoked < PURGE_BATCH) return total;
      await sleep(Math.max(2, performance.now() - started));
      this.store.assertOpen();
    }
  }

  async setQueuePaused(queue: string, paused: boolean): Promise<void> {
    this.store.assertOpen();
    await this.store.write(() => {
      this.queries.setPaused(queue, paused, now());
      // claims of other processes wake on this commit by themselves (data_version)
      if (!paused) this.store.wake();
    });
  }

  async pausedQueues(): Promise<string[]> {
    this.store.assertOpen();
    return this.queries.paused();
  }

  async retryDeadLetters(ids: readonly string[]): Promise<string[]> {
    this.store.assertOpen();
    return this.store.write(() => {
      const requeued: string[] = [];
      for (const id of new Set(ids)) {
        const [latest] = this.deadLetters.remove(id);
        if (latest === undefined) continue;
        if (!this.store.rerun(id) && !this.store.known(id)) {
          this.queries.dropExpired(id, now());
          this.store.enqueue(latest);
        }
        requeued.push(id);
      }
      return requeued;
    });
  }

  async dropDeadLetters(ids: readonly string[]): Promise<number> {
    this.store.assertOpen();
    return this.store.write(() => [...new Set(ids)].reduce((dropped, id) => dropped + this.deadLetters.remove(id).length, 0));
  }

  async putRecords(kind: string, records: ReadonlyArray<{ id: string; json: string }>, ttlMs: number): Promise<void> {
    this.store.assertOpen();
    await this.store.write(() => this.bookkeeping.putRecords(kind, records, now() + ttlMs));
  }

  async listRecords(kind: string, idPrefix = ''): Promise<Array<{ id: string; json: string }>> {
    this.store.assertOpen();
    return this.bookkeeping.listRecords(kind, idPrefix, now());
  }

  async deleteRecord(kind: string, id: string): Promise<void> {
    this.store.assertOpen();
    await this.store.write(() => this.bookkeeping.deleteRecord(kind, id));
  }

  async addCounts(bucket: number, deltas: Readonly<Record<string, number>>, retainMs: number): Promise<void> {
    this.store.assertOpen();
    await this.store.write(() => this.bookkeeping.addCounts(bucket, deltas, bucket + retainMs));
  }

  async readCounts(since: number): Promise<CountBucket[]> {
    this.store.assertOpen();
    return this.bookkeeping.readCounts(since, now());
  }

  async appendLog(kind: string, json: string, keep: number): Promise<void> {
    this.store.assertOpen();
    await this.store.write(() => this.bookkeeping.appendLog(kind, json, keep));
  }

  async readLog(kind: string, limit: number): Promise<string[]> {
    this.store.assertOpen();
    return this.bookkeeping.readLog(kind, limit);
  }
}
