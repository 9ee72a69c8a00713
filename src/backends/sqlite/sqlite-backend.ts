import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  Backend,
  BackendOptions,
  BackendSpec,
  ClaimedTask,
  Delivery,
  ClaimRequest,
  EnqueueOutcome,
  NewTask,
  TagFeedEntry,
  TagFeedPage,
  Unsubscribe,
} from '../../core/backend.js';
import { now } from '../../core/clock.js';
import { BrokerError, ClosedError } from '../../core/errors.js';
import { siblingModule } from '../../core/module-url.js';
import { trackClosed, trackOpened } from '../../core/resources.js';
import { isTerminal, RUNNING_STATES } from '../../core/states.js';
import type { DeadLetter, TaskErrorInfo, TaskInfo, TaskProgress } from '../../core/types.js';
import { SqliteAdmin, type SqliteStore } from './admin.js';
import { ChangeFeed } from './change-feed.js';
import { ClaimQueries } from './claim.js';
import { FairClaimQueries } from './fair-claim.js';
import { type Db, openDatabase } from './database.js';
import { DeadLetterQueries } from './dead-letters.js';
import { sqliteDriver } from './driver.js';
import { EnqueueQueries } from './enqueue.js';
import { EventLog } from './events.js';
import { LeaseQueries } from './leases.js';
import { MaintenanceQueries } from './maintenance.js';
import { AgingQueries } from './aging.js';
import { type ClaimRow, type InfoRow, parseInfo, toClaimed } from './rows.js';
import { TagFeedQueries } from './tag-feed.js';
import { type Finished, TransitionQueries } from './transitions.js';
import { WriteBatch } from './write-batch.js';

export interface SqliteBackendOptions extends BackendOptions {
  /** The database file, shared by every process of the app; parent directories are created. */
  filename: string;
  /** How often to check for other processes' commits, in ms (default 5). */
  pollIntervalMs?: number;
}

/** Events are only needed until every process has polled them; a minute is plenty. */
const EVENT_RETENTION_MS = 60_000;
/** Rows deleted per prune transaction: a few ms of holding the write lock. */
const PRUNE_BATCH = 500;
/** Tasks agePriorities looks at per call (Backend.agePriorities). */
const AGING_BATCH = 1000;
/** What one prune transaction should take at most, about; the batch shrinks or grows to it. */
const PRUNE_TARGET_MS = 10;
const PRUNE_MIN_BATCH = 50;
const PRUNE_MAX_BATCH = 2000;

/**
 * Tasks in one SQLite file (WAL mode), shared by any number of processes on
 * one machine. Every write is a BEGIN IMMEDIATE transaction, so concurrent
 * claims serialise on the write lock and each task is handed out once.
 * Semantics are the memory adapter's; see Backend for the contract.
 */
export class SqliteBackend implements Backend {
  readonly kind = 'sqlite';
  readonly capabilities = {
    crossProcess: true,
    durable: true,
    flowControl: true,
    rateLimits: true,
    debounce: true,
    aging: true,
    wake: true,
  };
  /** Another thread opens the same file (not an in-memory database: that is this connection's own). */
  readonly spec?: BackendSpec;

  private readonly db: Db;
  private readonly immediate: (fn: () => unknown) => unknown;
  private readonly events: EventLog;
  private readonly enqueues: EnqueueQueries;
  private readonly claims: ClaimQueries;
  private readonly fairClaims: FairClaimQueries;
  /** Tasks with limits this instance handed out: their end frees slots, so it wakes this process's waiting claims. */
  private readonly limited = new Set<string>();
  private readonly transitions: TransitionQueries;
  private readonly leases: LeaseQueries;
  private readonly deadLetters: DeadLetterQueries;
  private readonly maintenance: MaintenanceQueries;
  private readonly agingQueries: AgingQueries;
  private readonly tagFeeds: TagFeedQueries;
  private readonly feed: ChangeFeed;
  private readonly writes: WriteBatch;
  /** Work to do once the running transaction commits (in-process delivery, waking claims). */
  private afterCommit: Array<() => void> | undefined;
  /** The running transaction wrote tagged events: tag listeners read them after the commit. */
  private tagsChanged = false;
  private closed = false;
  readonly admin: SqliteAdmin;

  constructor(private readonly options: SqliteBackendOptions) {
    const db = (this.db = openDatabase(options.filename));
    if (options.filename !== ':memory:') {
      this.spec = {
        module: siblingModule(import.meta.url, 'index'),
        options: { ...options, filename: resolve(options.filename) },
      };
    }
    const tx = db.transaction((fn: () => unknown) => fn());
    this.immediate = (fn) => tx.immediate(fn);
    this.events = new EventLog(db, randomUUID());
    this.enqueues = new EnqueueQueries(db);
    this.claims = new ClaimQueries(db);
    this.fairClaims = new FairClaimQueries(db);
    this.transitions = new TransitionQueries(db);
    this.leases = new LeaseQueries(db);
    this.deadLetters = new DeadLetterQueries(db);
    this.maintenance = new MaintenanceQueries(db);
    this.agingQueries = new AgingQueries(db);
    this.tagFeeds = new TagFeedQueries(db);
    const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.feed = new ChangeFeed(this.events, () => dataVersion.get()!, options.pollIntervalMs ?? 5);
    this.writes = new WriteBatch((fn) => this.write(fn));
    this.admin = new SqliteAdmin(this.adminStore());
    trackOpened(this, `sqlite backend ${options.filename}`);
  }

  async enqueue(task: NewTask): Promise<EnqueueOutcome> {
    this.assertOpen();
    return this.writes.run(() => this.insert(task));
  }

  async enqueueMany(tasks: NewTask[]): Promise<EnqueueOutcome[]> {
    this.assertOpen();
    return this.writes.run(() => tasks.map((task) => this.insert(task)));
  }

  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    this.assertOpen();
    if (request.limit <= 0) return [];
    const deadline = now() + request.waitMs;
    for (;;) {
      this.assertOpen();
      // a plain read first: idle claimers never take the write lock
      let next = this.claims.nextRunAt(request.queues);
      if (next !== undefined && next <= now()) {
        const { claimed, expired, blocked, readyAt } = this.take(request);
        if (claimed.length > 0) return claimed;
        if (expired > 0) continue; // everything due had expired: look again
        // due tasks held back by their limits: wait for a slot (a wake) or a later due time, not spin on them;
        // held back by a rate limit: also until the earliest of them may go
        next = this.claims.nextRunAt(request.queues, blocked ? now() : undefined);
        if (readyAt < (next ?? Infinity)) next = readyAt;
      }
      if (request.signal?.aborted) return [];
      const left = deadline - now();
      if (left <= 0) return [];
      // sleep until woken, or until the next delayed task is due
      const untilDue = next === undefined ? left : Math.max(1, next - now());
      await this.feed.wait(Math.min(left, untilDue), request.signal);
    }
  }

  async extendLeases(tasks: readonly Delivery[], leaseMs: number): Promise<string[]> {
    this.assertOpen();
    return this.writes.run(() => {
      const until = now() + leaseMs;
      return tasks.filter((task) => !this.leases.extend(task, until)).map((task) => task.id);
    });
  }

  async recordProgress(task: ClaimedTask, progress: TaskProgress): Promise<boolean> {
    this.assertOpen();
    const progressJson = JSON.stringify(progress);
    return this.writes.run(() => this.publish(this.transitions.progress(task, progressJson)) !== null);
  }

  async complete(task: ClaimedTask, resultJson: string): Promise<boolean> {
    this.assertOpen();
    return this.writes.run(() => {
      const t = now();
      this.freed(task);
      return this.finish(this.transitions.complete(task, resultJson, t, this.purgeAt(t)), t) !== null;
    });
  }

  async fail(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean> {
    this.assertOpen();
    const errorJson = JSON.stringify(error);
    return this.writes.run(() => {
      const t = now();
      this.freed(task);
      return this.finish(this.transitions.fail(task, errorJson, t, this.purgeAt(t)), t) !== null;
    });
  }

  async retryLater(task: ClaimedTask, error: TaskErrorInfo, runAt: number): Promise<boolean> {
    this.assertOpen();
    const errorJson = JSON.stringify(error);
    return this.writes.run(() => {
      this.freed(task);
      return this.publish(this.transitions.retry(task, errorJson, runAt), { wake: true }) !== null;
    });
  }

  async release(task: ClaimedTask, runAt?: number): Promise<boolean> {
    this.assertOpen();
    return this.writes.run(() => {
      this.freed(task);
      return this.publish(this.transitions.release(task, runAt ?? now()), { wake: true }) !== null;
    });
  }

  async wake(id: string): Promise<boolean> {
    this.assertOpen();
    return this.writes.run(() => this.publish(this.transitions.wake(id, now()), { wake: true }) !== null);
  }

  async holdRateLimit(task: ClaimedTask, untilMs: number): Promise<boolean> {
    this.assertOpen();
    return this.writes.run(() => {
      const rates = this.fairClaims.rates.ofLive(task);
      if (rates === undefined) return false;
      if (rates !== null) this.fairClaims.rates.hold(rates, untilMs);
      this.freed(task);
      // with keys, the hold delays it (and keeps its place); without, its own due time does
      const t = now();
      const runAt = rates === null ? Math.max(untilMs, t) : t;
      return this.publish(this.transitions.release(task, runAt), { wake: true }) !== null;
    });
  }

  async deadLetter(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean> {
    this.assertOpen();
    const errorJson = JSON.stringify(error);
    return this.writes.run(() => {
      const t = now();
      this.freed(task);
      const failed = this.transitions.fail(task, errorJson, t, this.purgeAt(t));
      if (failed === undefined) return false;
      const { id, name, queue, payload, trace } = task;
      this.deadLetters.add({ id, name, queue, payload, error, at: t, trace }, this.options.deadLetterLimit);
      return this.finish(failed, t) !== null;
    });
  }

  async revoke(id: string): Promise<TaskInfo | null> {
    this.assertOpen();
    return this.writes.run(() => {
      const t = now();
      const row = this.transitions.get(id);
      if (!row || isExpired(row, t)) return null;
      const info = parseInfo(row.info);
      // finished, or a corrupt row (reported as a FAILURE, left as it is)
      if (isTerminal(info.state)) return info;
      const wasRunning = RUNNING_STATES.has(row.state);
      // a running task may hold slots (of a claim here or elsewhere): waiting claims look again
      if (wasRunning) this.freed({ id }, true);
      return this.finish(this.transitions.revoke(id, t, this.purgeAt(t)), t, wasRunning);
    });
  }

  async countWaiting(queue: string): Promise<number> {
    this.assertOpen();
    return this.claims.countWaiting(queue);
  }

  async getInfo(id: string): Promise<TaskInfo | null> {
    this.assertOpen();
    const row = this.transitions.get(id);
    return row && !isExpired(row, now()) ? parseInfo(row.info) : null;
  }

  async readTagFeed(tag: string, after: number, limit: number): Promise<TagFeedPage> {
    this.assertOpen();
    // one statement: cursors and infos from the same snapshot
    return this.tagFeeds.page(tag, after, limit, now());
  }

  async subscribeTag(tag: string, listener: (entry: TagFeedEntry) => void): Promise<Unsubscribe> {
    this.assertOpen();
    const off = this.feed.subscribeTag(tag, listener);
    return async () => off();
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    this.assertOpen();
    return this.deadLetters.list(limit);
  }

  async rescueExpired(): Promise<number> {
    this.assertOpen();
    return this.write(() => {
      const rescued = this.leases.rescue(now());
      for (const info of rescued) this.publish(info, { wake: true });
      return rescued.length;
    });
  }

  /**
   * Deletes expired tasks in short transactions with pauses between them at
   * least as long as each batch took, so other writers (of this and other
   * processes) get the write lock within a batch's time however much expired.
   */
  async agePriorities(): Promise<number> {
    this.assertOpen();
    // every worker sweeps every second: without aging tasks due, no write transaction
    if (!this.agingQueries.anyDue(now())) return 0;
    return this.write(() => this.agingQueries.sweep(now(), AGING_BATCH));
  }

  async prune(): Promise<number> {
    this.assertOpen();
    const t = now();
    let total = 0;
    let batch = PRUNE_BATCH;
    for (;;) {
      const started = performance.now();
      const [tasks, events, bookkeeping] = this.write(() => [
        this.maintenance.pruneTasks(t, batch),
        this.events.prune(t - EVENT_RETENTION_MS, batch),
        this.maintenance.pruneBookkeeping(t, batch),
      ]);
      total += tasks;
      if ((tasks < batch && events < batch && bookkeeping < batch) || this.closed) return total;
      const took = performance.now() - started;
      // keep each transaction near PRUNE_TARGET_MS, whatever a row costs on this disk with these indexes
      if (took > PRUNE_TARGET_MS * 2) batch = Math.max(PRUNE_MIN_BATCH, Math.floor(batch / 2));
      else if (took < PRUNE_TARGET_MS / 2) batch = Math.min(PRUNE_MAX_BATCH, batch * 2);
      await sleep(Math.max(2, took));
      if (this.closed) return total;
    }
  }

  async subscribeStatus(id: string, listener: (info: TaskInfo) => void): Promise<Unsubscribe> {
    this.assertOpen();
    const off = this.feed.subscribeStatus(id, listener);
    return async () => off();
  }

  async subscribeRevocations(listener: (id: string) => void): Promise<Unsubscribe> {
    this.assertOpen();
    const off = this.feed.subscribeRevocations(listener);
    return async () => off();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.writes.flush(); // what callers already handed us still gets committed
    this.closed = true;
    this.feed.close(); // waiting claims wake up and throw ClosedError
    this.db.close();
    trackClosed(this);
  }

  // --- internals -----------------------------------------------------------

  /** The transitions SqliteAdmin's actions go through: the same statements, follow-ups and events as the rest. */
  private adminStore(): SqliteStore {
    return {
      db: this.db,
      assertOpen: () => this.assertOpen(),
      write: (fn) => this.writes.run(fn),
      revokeWaiting: (queue, limit) => {
        const t = now();
        const revoked = this.transitions.revokeWaiting(queue, limit, t, this.purgeAt(t));
        for (const finished of revoked) this.finish(finished, t);
        return revoked.length;
      },
      rerun: (id) => {
        const info = this.publish(this.transitions.rerun(id, now()), { wake: true });
        if (info !== null) this.fairClaims.rejoin(id);
        return info !== null;
      },
      known: (id) => {
        const row = this.transitions.get(id);
        return row !== undefined && !isExpired(row, now());
      },
      enqueue: (letter) => {
        const t = now();
        const { id, name, queue, payload, trace } = letter;
        this.insert({ id, name, queue, payload, enqueuedAt: t, runAt: t, ...(trace === undefined ? {} : { trace }) });
      },
      wake: () => this.afterCommit?.push(() => this.feed.wake()),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('sqlite broker');
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction, then delivers its events in-process. */
  private write<T>(fn: () => T): T {
    const effects: Array<() => void> = [];
    this.afterCommit = effects;
    this.tagsChanged = false;
    let result: T;
    try {
      result = this.immediate(fn) as T;
    } catch (error) {
      throw error instanceof sqliteDriver().SqliteError ? new BrokerError(`sqlite: ${error.message}`, { cause: error }) : error;
    } finally {
      this.afterCommit = undefined;
    }
    for (const effect of effects) effect();
    if (this.tagsChanged) this.feed.tagged();
    return result;
  }

  private insert(task: NewTask): EnqueueOutcome {
    const { outcome, info } = this.enqueues.insert(task, now());
    if (info !== undefined) this.publish(info);
    // a debounced enqueue may have moved a waiting task's due time earlier
    if (outcome.created || info !== undefined) this.afterCommit?.push(() => this.feed.wake());
    return outcome;
  }

  /** Leases due tasks queue by queue (the request's order is its priority), like the memory adapter. */
  private take(request: ClaimRequest): { claimed: ClaimedTask[]; expired: number; blocked: boolean; readyAt: number } {
    return this.write(() => {
      const claimed: ClaimedTask[] = [];
      let expired = 0;
      let blocked = false;
      let readyAt = Infinity;
      const t = now();
      const params = { owner: request.workerId, now: t, leaseUntil: t + request.leaseMs, purgeAt: this.purgeAt(t) };
      const record = (rows: ClaimRow[]): void => {
        for (const row of rows) {
          // an expired task's follow-up comes in this transaction too
          const next = row.state === 'REVOKED' ? row.follow_up : null;
          const info = this.publish(row.info, { wake: next !== null && this.enqueues.insertFollowUp(next, t) })!;
          if (row.state !== 'STARTED') expired++;
          else {
            claimed.push(toClaimed(info, row, request.workerId));
            if (row.limited === 1) this.limited.add(info.id);
          }
        }
      };
      for (const queue of new Set(request.queues)) {
        if (claimed.length >= request.limit) break;
        // groups or limits waiting here: the fair claim (tasks without them never come this way when none wait)
        if (this.fairClaims.active(queue)) {
          const fair = this.fairClaims.take({ ...params, queue, limit: request.limit - claimed.length });
          record(fair.rows);
          blocked ||= fair.blocked;
          readyAt = Math.min(readyAt, fair.readyAt);
          continue;
        }
        while (claimed.length < request.limit) {
          const ask = request.limit - claimed.length;
          const rows = this.claims.take({ ...params, queue, limit: ask });
          record(rows);
          if (rows.length < ask) break;
        }
      }
      return { claimed, expired, blocked, readyAt };
    });
  }

  /** Inside a write: a task of ours with limits leaves the running states, so this process's waiting claims look again. */
  private freed(task: Pick<Delivery, 'id'>, always = false): void {
    if (this.limited.delete(task.id) || always) this.afterCommit?.push(() => this.feed.wake());
  }

  /** A terminal transition at `at`: its follow-up enqueued in the same transaction, and the change published. */
  private finish(finished: Finished | undefined, at: number, revoked = false): TaskInfo | null {
    if (finished === undefined) return null;
    const woke = finished.followUp !== null && this.enqueues.insertFollowUp(finished.followUp, at);
    return this.publish(finished.info, { revoked, wake: woke });
  }

  /**
   * Records a change in the events table (a tagged task's seq there becomes
   * its tag feeds' cursor); its listeners here hear it once the transaction commits.
   */
  private publish(infoJson: string | undefined, how: { revoked?: boolean; wake?: boolean } = {}): TaskInfo | null {
    if (infoJson === undefined) return null;
    const info = parseInfo(infoJson);
    const revoked = how.revoked ?? false;
    const tags = info.tags === undefined ? null : JSON.stringify(info.tags);
    const seq = this.events.append(info.id, infoJson, revoked, now(), tags);
    if (tags !== null) {
      this.tagFeeds.move(info.id, tags, seq);
      this.tagsChanged = true;
    }
    this.afterCommit?.push(() => {
      this.feed.deliver(info, revoked);
      if (how.wake) this.feed.wake();
    });
    return info;
  }

  private purgeAt(finishedAt: number): number {
    return finishedAt + this.options.resultTtlMs;
  }
}

/** A finished task whose result expired is unknown, even before prune deletes it. */
function isExpired(row: InfoRow, at: number): boolean {
  return row.purge_at !== null && row.purge_at <= at;
}
