import type {
  BackendAdmin,
  BrokerOverview,
  CountBucket,
  TaskPage,
  TaskQuery,
  TaskRecord,
} from '../../core/admin/admin-backend.js';
import { OverviewTally, TaskListCollector } from '../../core/admin/scan-views.js';
import { checkTaskQuery } from '../../core/admin/task-query.js';
import type { Clock } from '../../core/clock.js';
import type { DeadLetter, TaskInfo } from '../../core/types.js';
import { MemoryBookkeeping } from './bookkeeping.js';

/** What MemoryAdmin needs of the memory broker's store. */
export interface MemoryStore {
  readonly clock: Clock;
  assertOpen(): void;
  /** Every kept (unexpired) task's current TaskInfo, uncopied: read, do not change. */
  keptInfos(): Iterable<TaskInfo>;
  /** A copy of a kept task's TaskInfo (result decoded), its payload and trace. */
  record(id: string): { info: TaskInfo; payload: string; trace?: string } | undefined;
  /** FAILURE or REVOKED back to PENDING, due now (BackendAdmin.retryTasks); false when not finished that way. */
  rerun(id: string): boolean;
  /** A waiting (PENDING or RETRY) task to REVOKED; false when it was not waiting. */
  revokeWaiting(id: string): boolean;
  /** Stores a dead letter's message as a new PENDING task. */
  restore(letter: DeadLetter): void;
  readonly deadLetters: DeadLetter[];
  readonly paused: Set<string>;
  /** Wakes waiting claims (a resumed queue may have due tasks). */
  wakeClaims(): void;
}

/** BackendAdmin for the memory broker: scans, since everything is in one Map. */
export class MemoryAdmin implements BackendAdmin {
  private readonly bookkeeping: MemoryBookkeeping;

  constructor(private readonly store: MemoryStore) {
    this.bookkeeping = new MemoryBookkeeping(store.clock);
  }

  async overview(): Promise<BrokerOverview> {
    this.store.assertOpen();
    const tally = new OverviewTally(this.store.paused, this.store.clock.now());
    for (const info of this.store.keptInfos()) tally.add(info);
    return tally.result();
  }

  async listTasks(query: TaskQuery): Promise<TaskPage> {
    this.store.assertOpen();
    checkTaskQuery(query);
    const collector = new TaskListCollector(query);
    for (const info of this.store.keptInfos()) collector.add(info);
    const { picked, next } = collector.page();
    const tasks = picked.map((info) => this.store.record(info.id)!.info);
    return next === undefined ? { tasks } : { tasks, next };
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    this.store.assertOpen();
    const found = this.store.record(id);
    if (!found) return null;
    const record: TaskRecord = {
      info: found.info,
      payload: found.payload,
      deadLettered: this.store.deadLetters.some((d) => d.id === id),
    };
    if (found.trace !== undefined) record.trace = found.trace;
    return record;
  }

  async retryTasks(ids: readonly string[]): Promise<string[]> {
    this.store.assertOpen();
    return ids.filter((id) => this.store.rerun(id));
  }

  async purgeQueue(queue: string): Promise<number> {
    this.store.assertOpen();
    const waiting = [...this.store.keptInfos()]
      .filter((info) => info.queue === queue && (info.state === 'PENDING' || info.state === 'RETRY'))
      .map((info) => info.id);
    return waiting.filter((id) => this.store.revokeWaiting(id)).length;
  }

  async setQueuePaused(queue: string, paused: boolean): Promise<void> {
    this.store.assertOpen();
    if (paused) this.store.paused.add(queue);
    else if (this.store.paused.delete(queue)) this.store.wakeClaims();
  }

  async pausedQueues(): Promise<string[]> {
    this.store.assertOpen();
    return [...this.store.paused].sort();
  }

  async retryDeadLetters(ids: readonly string[]): Promise<string[]> {
    this.store.assertOpen();
    const requeued: string[] = [];
    for (const id of new Set(ids)) {
      const letters = this.store.deadLetters.filter((d) => d.id === id);
      if (letters.length === 0) continue;
      this.removeLetters(id);
      if (!this.store.rerun(id) && !this.store.record(id)) this.store.restore(letters.at(-1)!);
      requeued.push(id);
    }
    return requeued;
  }

  async dropDeadLetters(ids: readonly string[]): Promise<number> {
    this.store.assertOpen();
    let dropped = 0;
    for (const id of new Set(ids)) dropped += this.removeLetters(id);
    return dropped;
  }

  private removeLetters(id: string): number {
    const letters = this.store.deadLetters;
    let removed = 0;
    for (let i = letters.length - 1; i >= 0; i--) {
      if (letters[i]!.id === id) {
        letters.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  async putRecords(kind: string, records: ReadonlyArray<{ id: string; json: string }>, ttlMs: number): Promise<void> {
    this.store.assertOpen();
    this.bookkeeping.putRecords(kind, records, ttlMs);
  }
  async listRecords(kind: string, idPrefix = ''): Promise<Array<{ id: string; json: string }>> {
    this.store.assertOpen();
    return this.bookkeeping.listRecords(kind, idPrefix);
  }
  async deleteRecord(kind: string, id: string): Promise<void> {
    this.store.assertOpen();
    this.bookkeeping.deleteRecord(kind, id);
  }
  async addCounts(bucket: number, deltas: Readonly<Record<string, number>>, retainMs: number): Promise<void> {
    this.store.assertOpen();
    this.bookkeeping.addCounts(bucket, deltas, retainMs);
  }
  async readCounts(since: number): Promise<CountBucket[]> {
    this.store.assertOpen();
    return this.bookkeeping.readCounts(since);
  }
  async appendLog(kind: string, json: string, keep: number): Promise<void> {
    this.store.assertOpen();
    this.bookkeeping.appendLog(kind, json, keep);
  }
  async readLog(kind: string, limit: number): Promise<string[]> {
    this.store.assertOpen();
    return this.bookkeeping.readLog(kind, limit);
  }
}
