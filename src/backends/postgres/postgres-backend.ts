import { createHash, randomUUID } from 'node:crypto';
import { pendingInfo } from '../../core/pending-info.js';
import type { ClientConfig, Pool, PoolClient, QueryResultRow } from 'pg';
import type {
  Backend,
  BackendOptions,
  BackendSpec,
  ClaimedTask,
  ClaimRequest,
  Delivery,
  EnqueueContext,
  EnqueueOutcome,
  NewTask,
  TagFeedEntry,
  TagFeedPage,
  Unsubscribe,
} from '../../core/backend.js';
import { now, sleep } from '../../core/clock.js';
import { BrokerError, ClosedError, ConfigError, ErrandError } from '../../core/errors.js';
import { siblingModule } from '../../core/module-url.js';
import { trackClosed, trackOpened } from '../../core/resources.js';
import { isTerminal, RUNNING_STATES, type TaskState } from '../../core/states.js';
import type { DeadLetter, TaskErrorInfo, TaskInfo, TaskProgress } from '../../core/types.js';
import { PostgresAdmin, type PostgresStore, type PostgresTx } from './admin.js';
import { adminQueries, type AdminSql } from './admin-queries.js';
import { ChangeFeed, type EventRow } from './change-feed.js';
import { PostgresPubSub } from '../../pubsub/postgres-pubsub.js';
import { pgDriver, quoteIdent } from './driver.js';
import { migrate } from './migrations.js';
import { queries } from './queries.js';
import { flowColumns, flowQueries, type FlowSql, isFlow, parseRateLimits, takeFair } from './fair-claim.js';
import { decodeRow, isExpired, type TaskRow, toClaimed } from './rows.js';
import { Failed, WriteBatch } from './write-batch.js';

export interface PostgresBackendOptions extends BackendOptions {
  /** The connection string (postgres:// or postgresql://), without errand's own parameters. */
  url: string;
  /** The schema errand's tables live in (created if missing; default 'errand'). */
  schema?: string;
  /** How often to look for changes a lost notification did not announce, in ms (default 1000). */
  pollIntervalMs?: number;
  /** Connections in the command pool (default 10). */
  poolSize?: number;
}

/** Anything that runs a query: a pg Pool, Client or PoolClient. */
interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string | { name: string; text: string },
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** What a transaction changed: the events it appends, and the queues whose claimers it wakes. */
interface Effects {
  events: Array<{ info: TaskInfo; revoked: boolean }>;
  wake: Set<string>;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Events are only needed until every process has read them; a minute is plenty. */
const EVENT_RETENTION_MS = 60_000;
/** Rows deleted per prune statement: a short transaction each. */
const PRUNE_BATCH = 500;
/** Tasks agePriorities looks at per call (Backend.agePriorities). */
const AGING_BATCH = 1000;
const EXPIRED_ERROR = JSON.stringify({ type: 'TaskExpired', message: 'the task expired before it started' });

/** A write run inside a batch transaction. */
type Op = (client: PoolClient, fx: Effects) => Promise<unknown>;
type TransitionKind = 'progress' | 'complete' | 'fail' | 'retry' | 'release';
/** A worker-side transition; consecutive ones of a kind in a batch are one statement. */
interface Step {
  kind: TransitionKind;
  task: Delivery;
  params: unknown[];
}
/** A task without an idempotency key; consecutive ones in a batch are one statement. */
interface Insert {
  kind: 'insert';
  task: NewTask;
}
type Job = Op | Step | Insert;

interface Waiter {
  queues: ReadonlySet<string>;
  woken: boolean;
  wake(): void;
}

/**
 * Tasks in PostgreSQL tables (one schema), shared by any number of processes.
 * Claims lease rows with FOR UPDATE SKIP LOCKED; every transition appends to
 * an events table (in commit order, under an advisory lock) and NOTIFYs one
 * channel, on which a dedicated connection LISTENs: that wakes idle claims
 * and tells status and tag listeners of other processes to read the events.
 * A fallback poll covers a lost notification. Semantics are the memory
 * adapter's; see Backend for the contract.
 */
export class PostgresBackend implements Backend {
  readonly kind = 'postgres';
  readonly capabilities = {
    crossProcess: true,
    durable: true,
    transactionalEnqueue: true,
    flowControl: true,
    rateLimits: true,
    debounce: true,
    aging: true,
    wake: true,
  };
  readonly spec: BackendSpec;

  private readonly pool: Pool;
  private readonly schema: string;
  private readonly sql: ReturnType<typeof queries>;
  private readonly flowSql: FlowSql;
  private readonly adminSql: AdminSql;
  private readonly channel: string;
  private readonly origin = randomUUID();
  /** The LISTEN connection (on the schema's channel only: this backend never publishes through it). */
  private readonly listener: PostgresPubSub;
  private readonly feed: ChangeFeed;
  private readonly writes: WriteBatch<Job>;
  private readonly waiters = new Set<Waiter>();
  private readonly inflight = new Set<Promise<unknown>>();
  /** The migration under way or done; forgotten when it fails, so the next call tries again. */
  private opening: Promise<void> | undefined;
  private readonly poller: NodeJS.Timeout;
  private readonly pollMs: number;
  private closed = false;
  /** The server process ids of the pool's connections. */
  private readonly ownPids = new Set<number>();
  private readonly statementNames = new Map<string, string>();
  readonly admin: PostgresAdmin;

  constructor(private readonly options: PostgresBackendOptions) {
    const schema = (this.schema = options.schema ?? 'errand');
    if (!SCHEMA_NAME.test(schema)) {
      throw new ConfigError(`postgres schema "${schema}" must be a plain identifier (letters, digits, _; at most 63)`);
    }
    const pg = pgDriver();
    this.spec = { module: siblingModule(import.meta.url, 'index'), options: { ...options } };
    const S = quoteIdent(schema);
    this.sql = queries(S);
    this.flowSql = flowQueries(S);
    this.channel = `errand:${schema}`.slice(0, 63);
    this.pollMs = options.pollIntervalMs ?? 1000;
    // bigint columns (times, seqs, counts) as numbers: all stay below 2^53
    const types = {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as never,
    };
    const config: ClientConfig = { connectionString: options.url, connectionTimeoutMillis: 10_000, types };
    this.pool = new pg.Pool({ ...config, max: options.poolSize ?? 10, application_name: 'errand' });
    // an idle client's error (the server went away): the next query reports it
    this.pool.on('error', () => {});
    // the server processes of our own connections: their notifications were handled at our commit
    this.pool.on('connect', (client) => {
      const pid = (client as { processID?: number | null }).processID;
      if (typeof pid === 'number') this.ownPids.add(pid);
    });
    this.pool.on('remove', (client) => {
      const pid = (client as { processID?: number | null }).processID;
      if (typeof pid === 'number') this.ownPids.delete(pid);
    });
    this.listener = new PostgresPubSub({
      config,
      applicationName: `errand:listen:${schema}`.slice(0, 63),
      name: 'postgres broker',
      deliver: (_channel, payload, meta) => this.notified(payload, meta.senderPid),
      onReconnect: () => this.recheck(),
    });
    this.feed = new ChangeFeed({
      since: async (seq, tagged, limit) => {
        const { rows } = await this.pool.query<Omit<EventRow, 'info'> & { info: string | null; row_json: string | null }>(
          this.named(this.sql.eventsSince),
          [this.origin, seq, tagged, limit],
        );
        // an event written in SQL carries the row (row_json), decoded here as any row is
        return rows.flatMap(({ row_json, ...row }) => {
          if (row.info !== null) return [{ ...row, info: row.info }];
          try {
            return [{ ...row, info: JSON.stringify(decodeRow(JSON.parse(row_json!) as TaskRow).info) }];
          } catch {
            return []; // not an event errand wrote: skipped
          }
        });
      },
      lastSeq: async () => (await this.pool.query<{ seq: number }>(this.sql.lastEvent)).rows[0]!.seq,
    });
    this.writes = new WriteBatch<Job>((jobs) => this.commitBatch(jobs));
    this.adminSql = adminQueries(S);
    this.admin = new PostgresAdmin(this.adminStore());
    this.poller = setInterval(() => this.recheck(), this.pollMs);
    this.poller.unref();
    trackOpened(this, `postgres backend ${this.endpoint}/${schema}`);
  }

  async enqueue(task: NewTask, context?: EnqueueContext): Promise<EnqueueOutcome> {
    this.assertOpen();
    if (context?.db !== undefined) return this.enqueueIn(context.db, task);
    const job: Job = plainInsert(task) ? { kind: 'insert', task } : (client, fx) => this.insert(client, fx, task, true);
    return this.call('enqueue', () => this.writes.run<EnqueueOutcome>(job));
  }

  async enqueueMany(tasks: NewTask[]): Promise<EnqueueOutcome[]> {
    this.assertOpen();
    if (tasks.length === 0) return [];
    const jobs = tasks.map((task): Job =>
      plainInsert(task) ? { kind: 'insert', task } : (client, fx) => this.insert(client, fx, task, true),
    );
    // one transaction, all or nothing
    return this.call('enqueue', async () => (await this.transaction(jobs, true)) as EnqueueOutcome[]);
  }

  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    this.assertOpen();
    if (request.limit <= 0) return [];
    await this.call('claim', () => this.opened);
    await this.listening();
    const queues = [...new Set(request.queues)];
    const deadline = now() + request.waitMs;
    for (;;) {
      this.assertOpen();
      const waiter = this.addWaiter(queues);
      try {
        const taken = await this.call('claim', () => this.take(request, queues));
        const { claimed, expired } = taken;
        if (claimed.length > 0) return claimed;
        if (expired > 0) continue; // everything due had expired: look again
        if (request.signal?.aborted) return [];
        const left = deadline - now();
        if (left <= 0) return [];
        const next = 'next' in taken ? taken.next : await this.call('claim', () => this.nextRunAt(queues));
        if (waiter.woken) continue;
        const untilDue = next === undefined ? left : Math.max(1, next - now());
        await this.sleepUntilWoken(waiter, Math.min(left, untilDue, this.pollMs), request.signal);
      } finally {
        this.waiters.delete(waiter);
      }
    }
  }

  async extendLeases(deliveries: readonly Delivery[], leaseMs: number): Promise<string[]> {
    this.assertOpen();
    if (deliveries.length === 0) return [];
    return this.call('extendLeases', async () => {
      await this.opened;
      const { rows } = await this.pool.query<{ id: string }>(this.named(this.sql.extend), [
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.workerId),
        deliveries.map((d) => d.attempt),
        now() + leaseMs,
      ]);
      const kept = new Set(rows.map((row) => row.id));
      return deliveries.filter((d) => !kept.has(d.id)).map((d) => d.id);
    });
  }

  async recordProgress(task: ClaimedTask, progress: TaskProgress): Promise<boolean> {
    return this.transition('progress', task, [JSON.stringify(progress)]);
  }

  async complete(task: ClaimedTask, resultJson: string): Promise<boolean> {
    const t = now();
    return this.transition('complete', task, [resultJson, t, this.purgeAt(t)]);
  }

  async fail(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean> {
    const t = now();
    return this.transition('fail', task, [JSON.stringify(error), t, this.purgeAt(t)]);
  }

  async retryLater(task: ClaimedTask, error: TaskErrorInfo, runAt: number): Promise<boolean> {
    return this.transition('retry', task, [JSON.stringify(error), runAt]);
  }

  async release(task: ClaimedTask, runAt?: number): Promise<boolean> {
    return this.transition('release', task, [runAt ?? now()]);
  }

  async wake(id: string): Promise<boolean> {
    this.assertOpen();
    return this.call('wake', () =>
      this.writes.run(async (client, fx) => {
        const row = (await client.query<TaskRow>(this.sql.wake, [id, now()])).rows[0];
        if (row === undefined) return false;
        this.record(fx, row);
        fx.wake.add(row.queue);
        return true;
      }),
    );
  }

  /**
   * Backend.holdRateLimit: under the flow lock, the task's rate-limit keys
   * blocked until `untilMs` and the task released (due at once: the hold
   * delays it; without rate limits, due at `untilMs`), in one transaction.
   */
  async holdRateLimit(task: ClaimedTask, untilMs: number): Promise<boolean> {
    this.assertOpen();
    return this.call('holdRateLimit', async () => {
      const [held] = await this.transaction([
        async (client, fx) => {
          await client.query(this.flowSql.lock, [this.schema]);
          const live = (
            await client.query<{ rate_limits: string | null }>(this.flowSql.liveRates, [task.id, task.workerId, task.attempt])
          ).rows[0];
          if (live === undefined) return false;
          const rates = parseRateLimits(live.rate_limits);
          for (const key of new Set((rates ?? []).map((r) => r.key)))
            await client.query(this.flowSql.holdRateKey, [key, untilMs]);
          const t = now();
          const runAt = rates === undefined ? Math.max(untilMs, t) : t;
          return (await this.update(client, fx, 'release', task, [runAt])) !== undefined;
        },
      ]);
      return held as boolean;
    });
  }

  async deadLetter(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean> {
    this.assertOpen();
    const t = now();
    const errorJson = JSON.stringify(error);
    return this.call('deadLetter', () =>
      this.writes.run(async (client, fx) => {
        const row = await this.update(client, fx, 'fail', task, [errorJson, t, this.purgeAt(t)]);
        if (row === undefined) return false;
        const { id, name, queue, payload, trace } = task;
        await client.query(this.sql.deadLetter, [id, name, queue, payload, errorJson, t, trace ?? null]);
        await client.query(this.sql.trimDeadLetters, [Math.max(0, this.options.deadLetterLimit)]);
        return true;
      }),
    );
  }

  async revoke(id: string): Promise<TaskInfo | null> {
    this.assertOpen();
    return this.call('revoke', () =>
      this.writes.run(async (client, fx) => {
        const t = now();
        const row = (await client.query<TaskRow>(this.sql.getForUpdate, [id])).rows[0];
        if (!row || isExpired(row, t)) return null;
        const { info } = decodeRow(row);
        // finished, or a corrupt row (reported as a FAILURE, left as it is)
        if (isTerminal(info.state)) return info;
        const wasRunning = RUNNING_STATES.has(row.state as TaskState);
        const revoked = (await client.query<TaskRow>(this.sql.revoke, [id, t, this.purgeAt(t)])).rows[0];
        if (revoked === undefined) return info;
        await this.followUp(client, fx, revoked, t);
        return this.record(fx, revoked, wasRunning);
      }),
    );
  }

  async countWaiting(queue: string): Promise<number> {
    this.assertOpen();
    return this.call('countWaiting', async () => {
      await this.opened;
      return (await this.pool.query<{ n: number }>(this.named(this.sql.countWaiting), [queue])).rows[0]!.n;
    });
  }

  async getInfo(id: string): Promise<TaskInfo | null> {
    this.assertOpen();
    return this.call('getInfo', async () => {
      await this.opened;
      const row = (await this.pool.query<TaskRow>(this.named(this.sql.get), [id])).rows[0];
      return row && !isExpired(row, now()) ? decodeRow(row).info : null;
    });
  }

  async readTagFeed(tag: string, after: number, limit: number): Promise<TagFeedPage> {
    this.assertOpen();
    const wanted = Math.max(0, Math.floor(limit));
    return this.call('readTagFeed', async () => {
      await this.opened;
      // one statement: cursors and infos from the same snapshot; one row more tells whether there is more
      const { rows } = await this.pool.query<TaskRow & { cursor: number }>(this.named(this.sql.tagPage), [
        tag,
        after,
        now(),
        wanted + 1,
      ]);
      const entries = rows.slice(0, wanted).map((row) => ({ cursor: row.cursor, info: decodeRow(row).info }));
      return { entries, cursor: entries.at(-1)?.cursor ?? after, more: rows.length > wanted };
    });
  }

  async subscribeTag(tag: string, listener: (entry: TagFeedEntry) => void): Promise<Unsubscribe> {
    this.assertOpen();
    const off = await this.subscribe('subscribeTag', () => this.feed.subscribeTag(tag, listener));
    return async () => off();
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    this.assertOpen();
    return this.call('listDeadLetters', async () => {
      await this.opened;
      const { rows } = await this.pool.query<{
        id: string;
        name: string;
        queue: string;
        payload: string;
        error_json: string;
        at: number;
        trace: string | null;
      }>(this.sql.listDeadLetters, [Math.max(0, limit)]);
      return rows.map(({ error_json, trace, ...rest }) => {
        const letter: DeadLetter = { ...rest, error: JSON.parse(error_json) as TaskErrorInfo };
        if (trace !== null) letter.trace = trace;
        return letter;
      });
    });
  }

  async rescueExpired(): Promise<number> {
    this.assertOpen();
    return this.call('rescueExpired', async () => {
      await this.opened;
      const [count] = await this.transaction([
        async (client, fx) => {
          const { rows } = await client.query<TaskRow>(this.sql.rescue, [now()]);
          for (const row of rows) {
            this.record(fx, row);
            fx.wake.add(row.queue);
          }
          return rows.length;
        },
      ]);
      return count as number;
    });
  }

  /**
   * Deletes expired tasks (and old events) in short statements with pauses
   * between them at least as long as each took: no long transaction.
   */
  async agePriorities(): Promise<number> {
    this.assertOpen();
    return this.call('agePriorities', async () => {
      await this.opened;
      const { rows } = await this.pool.query<{ raised: boolean }>(this.sql.age, [now(), AGING_BATCH]);
      return rows.filter((row) => row.raised).length;
    });
  }

  async prune(): Promise<number> {
    this.assertOpen();
    return this.call('prune', async () => {
      await this.opened;
      const t = now();
      let total = 0;
      for (;;) {
        const started = performance.now();
        const tasks = (await this.pool.query<{ n: number }>(this.sql.pruneTasks, [t, PRUNE_BATCH])).rows[0]!.n;
        const events = (await this.pool.query<{ n: number }>(this.sql.pruneEvents, [t - EVENT_RETENTION_MS, PRUNE_BATCH]))
          .rows[0]!.n;
        const bookkeeping = (await this.pool.query<{ n: number }>(this.sql.pruneBookkeeping, [t, PRUNE_BATCH])).rows[0]!.n;
        total += tasks;
        if ((tasks < PRUNE_BATCH && events < PRUNE_BATCH && bookkeeping < PRUNE_BATCH) || this.closed) return total;
        await sleep(Math.max(2, performance.now() - started));
        if (this.closed) return total;
      }
    });
  }

  async subscribeStatus(id: string, listener: (info: TaskInfo) => void): Promise<Unsubscribe> {
    this.assertOpen();
    const off = await this.subscribe('subscribeStatus', () => this.feed.subscribeStatus(id, listener));
    return async () => off();
  }

  async subscribeRevocations(listener: (id: string) => void): Promise<Unsubscribe> {
    this.assertOpen();
    const off = await this.subscribe('subscribeRevocations', () => this.feed.subscribeRevocations(listener));
    return async () => off();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // what callers already handed us still gets committed
    await this.writes.flush().catch(() => {});
    this.closed = true;
    clearInterval(this.poller);
    for (const waiter of [...this.waiters]) waiter.wake(); // waiting claims wake up and throw ClosedError
    this.feed.close();
    await this.listener.close();
    await Promise.allSettled([...this.inflight]);
    await this.pool.end().catch(() => {});
    trackClosed(this);
  }

  // --- internals -----------------------------------------------------------

  /** What PostgresAdmin runs on: the pool, and write transactions that publish as every other transition does. */
  private adminStore(): PostgresStore {
    return {
      sql: this.adminSql,
      assertOpen: () => this.assertOpen(),
      query: (what, text, values) =>
        this.call(what, async () => {
          await this.opened;
          return (await this.pool.query(text, values)).rows;
        }),
      write: <T>(what: string, fn: (tx: PostgresTx) => Promise<T>, own = false): Promise<T> => {
        const op: Op = (client, fx) => fn(this.adminTx(client, fx));
        return this.call(what, async () => (own ? ((await this.transaction([op]))[0] as T) : this.writes.run<T>(op)));
      },
    };
  }

  /** The transitions of admin actions, through the same statements, follow-ups and events as the rest. */
  private adminTx(client: PoolClient, fx: Effects): PostgresTx {
    return {
      query: async (text, values) => (await client.query(text, values)).rows,
      revokeWaiting: async (queue, limit) => {
        const t = now();
        const { rows } = await client.query<TaskRow>(this.sql.revokeWaiting, [queue, t, this.purgeAt(t), limit]);
        for (const row of rows) {
          await this.followUp(client, fx, row, t);
          this.record(fx, row);
        }
        return rows.length;
      },
      rerun: async (ids) => {
        const { rows } = await client.query<TaskRow>(this.sql.rerun, [[...ids], now()]);
        if (rows.length > 0) {
          // a flow-controlled task's group may have left the rotation meanwhile
          await client.query(this.flowSql.lock, [this.schema]);
          await client.query(this.flowSql.rejoin, [rows.map((row) => row.id)]);
        }
        for (const row of rows) {
          this.record(fx, row);
          fx.wake.add(row.queue);
        }
        return new Set(rows.map((row) => row.id));
      },
      known: async (id) => {
        const row = (await client.query<TaskRow>(this.sql.getForUpdate, [id])).rows[0];
        return row !== undefined && !isExpired(row, now());
      },
      enqueue: async ({ id, name, queue, payload, trace }) => {
        const t = now();
        await client.query(this.adminSql.dropExpired, [id, t]);
        await this.insert(client, fx, {
          id,
          name,
          queue,
          payload,
          enqueuedAt: t,
          runAt: t,
          ...(trace === undefined ? {} : { trace }),
        });
      },
      wake: (queue) => fx.wake.add(queue),
    };
  }

  /**
   * Resolves once the LISTEN connection is up, or once an attempt failed
   * (the fallback poll covers what it would have said, and the pub/sub
   * keeps reconnecting by the reconnect rule). Every claim asks: once the
   * connection is up (it listens on every topic before it counts as up, the
   * schema's channel being the only one), nothing more is done.
   */
  private listening(): Promise<void> {
    if (this.listener.connected) return Promise.resolve();
    return this.listener.listen(this.channel).catch(() => undefined);
  }

  /** Resolves once the schema is up to date (migrating it on first use). */
  private get opened(): Promise<void> {
    this.opening ??= this.track(this.open()).catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async open(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await migrate(client, this.schema, quoteIdent(this.schema));
    } finally {
      client.release();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('postgres broker');
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    void promise.finally(() => this.inflight.delete(promise)).catch(() => {});
    return promise;
  }

  /** Runs `fn` (tracked, so close waits for it) and turns driver errors into BrokerError. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.track(fn());
    } catch (error) {
      throw this.wrap(what, error);
    }
  }

  private async subscribe(what: string, fn: () => Promise<() => void>): Promise<() => void> {
    return this.call(what, async () => {
      await this.opened;
      await this.listening();
      return fn();
    });
  }

  /**
   * A batch of the write queue: when it is all inserts (keyless) or all one
   * transition of distinct tasks, one autocommit statement (fastInserts,
   * fastSteps); anything else, one transaction.
   */
  private async commitBatch(jobs: Job[]): Promise<unknown[]> {
    const first = jobs[0]!;
    if (typeof first !== 'function') {
      const ids = new Set<string>();
      const uniform = jobs.every((job) => {
        if (typeof job === 'function' || job.kind !== first.kind || ids.has(job.task.id)) return false;
        ids.add(job.task.id);
        return true;
      });
      if (uniform) {
        return first.kind === 'insert' ? this.fastInserts(jobs as Insert[]) : this.fastSteps(first.kind, jobs as Step[]);
      }
    }
    return this.transaction(jobs);
  }

  /** Keyless tasks in one statement, with their events and notifications; an id that exists already fails that task only. */
  private async fastInserts(inserts: Insert[]): Promise<Array<EnqueueOutcome | Failed>> {
    await this.opened;
    const tasks = inserts.map((insert) => insert.task);
    const { rows } = await this.pool.query<{ id: string }>(this.named(this.sql.fast.insert), [
      ...insertColumns(tasks),
      this.origin,
      now(),
      this.schema,
      this.channel,
    ]);
    const inserted = new Set(rows.map((row) => row.id));
    const fx: Effects = { events: [], wake: new Set() };
    const results = tasks.map((task) => {
      if (!inserted.has(task.id))
        return new Failed(new BrokerError(`postgres enqueue failed: a task with id ${task.id} already exists`));
      this.created(fx, task);
      return { id: task.id, created: true };
    });
    this.afterCommit(fx);
    return results;
  }

  /**
   * One transition of distinct deliveries in one statement, with its events
   * and notifications. The ones it leaves out either were not the live
   * delivery or (complete, fail) have a follow-up: those go through a
   * transaction, which tells them apart.
   */
  private async fastSteps(kind: TransitionKind, steps: Step[]): Promise<unknown[]> {
    await this.opened;
    const width = steps[0]!.params.length;
    const params: unknown[] = [steps.map((s) => s.task.id), steps.map((s) => s.task.workerId), steps.map((s) => s.task.attempt)];
    for (let k = 0; k < width; k++) params.push(steps.map((s) => s.params[k]));
    params.push(this.origin, now(), this.schema, this.channel);
    const { rows } = await this.pool.query<TaskRow>(this.named(this.sql.fast[kind]), params);
    const fx: Effects = { events: [], wake: new Set() };
    const done = new Set<string>();
    for (const row of rows) {
      done.add(row.id);
      this.record(fx, row);
      if (kind === 'retry' || kind === 'release' || freesSlot(kind, row)) fx.wake.add(row.queue);
    }
    this.afterCommit(fx);
    const rest = kind === 'complete' || kind === 'fail' ? steps.filter((step) => !done.has(step.task.id)) : [];
    const others = rest.length > 0 ? await this.transaction(rest) : [];
    let i = 0;
    return steps.map((step) => (done.has(step.task.id) ? true : rest.includes(step) ? others[i++] : false));
  }

  /**
   * Runs `ops` in one transaction, in order, then appends their events and
   * queues their notifications in the same transaction; after the COMMIT,
   * delivers the events in-process and wakes local claims.
   */
  private async transaction(jobs: Job[], atomic = false): Promise<unknown[]> {
    await this.opened;
    const client = await this.pool.connect();
    const fx: Effects = { events: [], wake: new Set() };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const results = await this.runJobs(client, fx, jobs);
      if (atomic) {
        const failed = results.find((result) => result instanceof Failed);
        if (failed) throw failed.error;
      }
      await this.publish(client, fx, true);
      await client.query('COMMIT');
      this.afterCommit(fx);
      return results;
    } catch (error) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Runs jobs in order; consecutive steps of one kind (distinct tasks) as one statement. */
  private async runJobs(client: PoolClient, fx: Effects, jobs: Job[]): Promise<unknown[]> {
    const results: unknown[] = [];
    let i = 0;
    while (i < jobs.length) {
      const job = jobs[i]!;
      if (typeof job === 'function') {
        results.push(await job(client, fx));
        i++;
        continue;
      }
      const ids = new Set<string>();
      let j = i;
      for (; j < jobs.length; j++) {
        const next = jobs[j]!;
        if (typeof next === 'function' || next.kind !== job.kind || ids.has(next.task.id)) break;
        ids.add(next.task.id);
      }
      const group = jobs.slice(i, j);
      results.push(
        ...(job.kind === 'insert'
          ? await this.insertMany(client, fx, group as Insert[])
          : await this.updateMany(client, fx, job.kind, group as Step[])),
      );
      i = j;
    }
    return results;
  }

  /** Keyless tasks in one statement; an id that exists already fails that task only. */
  private async insertMany(client: PoolClient, fx: Effects, inserts: Insert[]): Promise<Array<EnqueueOutcome | Failed>> {
    const tasks = inserts.map((insert) => insert.task);
    const { rows } = await client.query<{ id: string }>(this.named(this.sql.insertMany), insertColumns(tasks));
    const inserted = new Set(rows.map((row) => row.id));
    return tasks.map((task) => {
      if (!inserted.has(task.id))
        return new Failed(new BrokerError(`postgres enqueue failed: a task with id ${task.id} already exists`));
      this.created(fx, task);
      return { id: task.id, created: true };
    });
  }

  /** One transition for many deliveries (distinct tasks) in one statement; true for each one recorded. */
  private async updateMany(client: PoolClient, fx: Effects, kind: TransitionKind, steps: Step[]): Promise<boolean[]> {
    const width = steps[0]!.params.length;
    const params: unknown[] = [steps.map((s) => s.task.id), steps.map((s) => s.task.workerId), steps.map((s) => s.task.attempt)];
    for (let k = 0; k < width; k++) params.push(steps.map((s) => s.params[k]));
    const { rows } = await client.query<TaskRow>(this.named(this.sql[`${kind}Many`]), params);
    const done = new Set<string>();
    for (const row of rows) {
      done.add(row.id);
      await this.recorded(client, fx, kind, row);
    }
    return steps.map((step) => done.has(step.task.id));
  }

  /** The events and notifications of a transaction, written through `client`. */
  private async publish(client: Queryable, fx: Effects, locked: boolean): Promise<void> {
    if (fx.events.length === 0 && fx.wake.size === 0) return;
    const notices = [...fx.wake].map((queue) => `q:${queue}`);
    if (fx.events.length > 0) notices.push('e');
    const { events } = fx;
    // the caller's own client (transactional enqueue) gets no prepared statements of ours
    await client.query(locked ? this.named(this.sql.publish) : this.sql.publishUnlocked, [
      this.schema,
      this.origin,
      now(),
      events.map((e) => e.info.id),
      events.map((e) => e.revoked),
      events.map((e) => JSON.stringify(e.info)),
      events.map((e) => (e.info.tags === undefined ? null : JSON.stringify(e.info.tags))),
      this.channel,
      notices,
    ]);
  }

  private afterCommit(fx: Effects): void {
    let tagged = false;
    for (const { info, revoked } of fx.events) {
      this.feed.deliver(info, revoked);
      if (info.tags !== undefined) tagged = true;
    }
    if (fx.wake.size > 0) this.wakeQueues(fx.wake);
    // tag listeners hear our own changes from the table too, so all arrive in seq order
    if (tagged && this.feed.hasTagListeners) void this.feed.sync();
  }

  /** Records a row's new state as an event of the running transaction; its TaskInfo. */
  private record(fx: Effects, row: TaskRow, revoked = false): TaskInfo {
    const { info } = decodeRow(row);
    fx.events.push({ info, revoked });
    return info;
  }

  /** `locked`: a flow-controlled task's rotation join under the flow lock (not in the caller's own transaction, which would hold it to its COMMIT). */
  private async insert(client: Queryable, fx: Effects, task: NewTask, locked = false): Promise<EnqueueOutcome> {
    const t = now();
    const key = task.idempotencyKey;
    if (key !== undefined) {
      const known = await this.byKey(client, task, key, t);
      if (known) return known;
    }
    if (task.debounce !== undefined) {
      const folded = await this.debounced(client, fx, task, t);
      if (folded) return folded;
    }
    const flow = flowColumns(task);
    if (isFlow(task)) {
      if (locked) await client.query(this.flowSql.lock, [this.schema]);
      await client.query(this.flowSql.join, [task.queue, task.priority ?? 0, flow[0]]);
    }
    const tagged = task.tags !== undefined && task.tags.length > 0;
    const { rowCount } = await client.query(this.sql.insert, [
      task.id,
      task.name,
      task.queue,
      task.payload,
      task.enqueuedAt,
      task.runAt,
      task.expiresAt ?? null,
      key ?? null,
      tagged ? JSON.stringify(task.tags) : null,
      followUpJson(task),
      task.trace ?? null,
      task.priority ?? 0,
      ...flow,
      task.debounce?.key ?? null,
      task.debounce?.maxRunAt ?? null,
      task.aging?.everyMs ?? null,
      task.aging?.step ?? null,
      task.aging?.max ?? null,
      task.aging === undefined ? null : task.runAt + task.aging.everyMs,
    ]);
    if (rowCount === 0) {
      // a concurrent enqueue with the same key committed meanwhile, or the id exists
      const known =
        key !== undefined
          ? await this.byKey(client, task, key, t)
          : task.debounce !== undefined
            ? await this.debounced(client, fx, task, t)
            : undefined;
      if (known) return known;
      throw new BrokerError(`postgres enqueue failed: a task with id ${task.id} already exists`);
    }
    this.created(fx, task);
    return { id: task.id, created: true };
  }

  /** A task just stored: a tagged one's enqueue is a change of its tag feeds; its queue's claimers wake. */
  private created(fx: Effects, task: NewTask): void {
    if (task.tags !== undefined && task.tags.length > 0) {
      const info = pendingInfo(task);
      fx.events.push({ info, revoked: false });
    }
    fx.wake.add(task.queue);
  }

  /** Folds the enqueue into the waiting task of its debounce key (NewTask.debounce), if one waits. */
  private async debounced(client: Queryable, fx: Effects, task: NewTask, at: number): Promise<EnqueueOutcome | undefined> {
    const { key, replace } = task.debounce!;
    const { rows } = await client.query<TaskRow>(this.sql.debounceHit, [key, at, task.runAt, replace, task.payload]);
    const row = rows[0];
    if (!row) return undefined;
    this.record(fx, row);
    // its due time may have moved earlier
    fx.wake.add(row.queue);
    return { id: row.id, created: false };
  }

  /** The live task known under `key`, as an outcome; an expired holder is deleted (it is unknown already). */
  private async byKey(client: Queryable, task: NewTask, key: string, at: number): Promise<EnqueueOutcome | undefined> {
    const existing = (
      await client.query<{ id: string; name: string; payload: string; purge_at: number | string | null }>(this.sql.byKey, [key])
    ).rows[0];
    if (!existing) return undefined;
    if (existing.purge_at === null || Number(existing.purge_at) > at) {
      // the key reused for other work: reported, not merged silently
      return existing.payload === task.payload && existing.name === task.name
        ? { id: existing.id, created: false }
        : { id: existing.id, created: false, conflict: true };
    }
    await client.query(this.sql.drop, [existing.id]);
    return undefined;
  }

  /** Enqueue through the caller's client, inside the caller's transaction: its NOTIFY goes out at the caller's COMMIT. */
  private async enqueueIn(db: unknown, task: NewTask): Promise<EnqueueOutcome> {
    const client = db as Queryable;
    if (typeof client.query !== 'function') throw new ConfigError('db must be your database client (a pg Client or PoolClient)');
    return this.call('enqueue', async () => {
      await this.opened;
      const fx: Effects = { events: [], wake: new Set() };
      const outcome = await this.insert(client, fx, task);
      await this.publish(client, fx, false);
      return outcome;
    });
  }

  /**
   * Leases due tasks of `queues` (their order is the priority) in one
   * autocommit statement, events included; when nothing was claimed, also
   * when the next one is due. An expired task with a follow-up is left to
   * the transaction (takeInTransaction).
   */
  private async take(
    request: ClaimRequest,
    queues: string[],
  ): Promise<{ claimed: ClaimedTask[]; expired: number; next?: number | undefined }> {
    await this.opened;
    const t = now();
    const { rows } = await this.pool.query<
      TaskRow & {
        p_ord: number;
        p_pri: number;
        p_due: number;
        seq: number;
        fair: boolean;
        picked: number;
        next_at: number | null;
      }
    >(this.named(this.sql.fast.claim), [
      queues,
      t,
      request.limit,
      request.workerId,
      t + request.leaseMs,
      this.purgeAt(t),
      EXPIRED_ERROR,
      this.origin,
      t,
      this.schema,
      this.channel,
    ]);
    const head = rows[0]!;
    const taken = rows.filter((row) => row.id !== null);
    if (taken.length === 0 && head.fair) return this.takeFlow(request, queues);
    if (taken.length === 0 && head.picked > 0) return this.takeInTransaction(request, queues);
    // RETURNING order is unspecified
    taken.sort((a, b) => a.p_ord - b.p_ord || b.p_pri - a.p_pri || a.p_due - b.p_due || a.seq - b.seq);
    const fx: Effects = { events: [], wake: new Set() };
    const claimed: ClaimedTask[] = [];
    let expired = head.picked - taken.length; // left to a later claim
    for (const row of taken) {
      const decoded = decodeRow(row);
      fx.events.push({ info: decoded.info, revoked: false });
      if (row.state === 'STARTED') claimed.push(toClaimed(row, decoded, request.workerId));
      else expired++; // expired before it started (it has no follow-up)
    }
    this.afterCommit(fx);
    if (taken.length > 0) return { claimed, expired };
    return { claimed, expired, next: head.next_at ?? undefined };
  }

  /**
   * The claim when flow-controlled tasks wait in one of `queues`: one
   * transaction under the schema's flow lock (limit counts and the rotation
   * read and written by one claim at a time), queue by queue in order: a
   * flow-active one by takeFair's index probes, the others by the plain
   * claim statement.
   */
  private async takeFlow(
    request: ClaimRequest,
    queues: string[],
  ): Promise<{ claimed: ClaimedTask[]; expired: number; next?: number | undefined }> {
    const [result] = await this.transaction([
      async (client, fx) => {
        await client.query(this.flowSql.lock, [this.schema]);
        const t = now();
        const lease = {
          now: t,
          owner: request.workerId,
          leaseUntil: t + request.leaseMs,
          purgeAt: this.purgeAt(t),
          expiredError: EXPIRED_ERROR,
        };
        const active = new Set((await client.query<{ name: string }>(this.flowSql.active, [queues])).rows.map((r) => r.name));
        type Row = TaskRow & { p_ord: number; p_pri: number; p_due: number; seq: number };
        const rows: Row[] = [];
        const state = { blocked: false, readyAt: Infinity };
        for (const [i, queue] of queues.entries()) {
          if (rows.length >= request.limit) break;
          if (active.has(queue)) {
            await takeFair(client, this.flowSql, queue, i + 1, request.limit, lease, rows, state);
            continue;
          }
          const plain = await client.query<Row>(this.sql.claim, [
            [queue],
            t,
            request.limit - rows.length,
            request.workerId,
            lease.leaseUntil,
            lease.purgeAt,
            EXPIRED_ERROR,
          ]);
          for (const row of plain.rows) rows.push({ ...row, p_ord: i + 1 });
        }
        const { claimed, expired } = await this.handOut(client, fx, rows, request.workerId, t);
        if (rows.length === 0 && active.size > 0) {
          // a group left without a turn would never be served (and its due tasks would look due forever): rejoined, look again
          const repaired = await client.query(this.flowSql.repair, [[...active]]);
          if ((repaired.rowCount ?? 0) > 0) return { claimed, expired: 1 };
        }
        // a due task held back by its limits is not a due time to wake at: a freed slot wakes the claim (or
        // the poll), a rate-limited one may go at readyAt
        if (!state.blocked || rows.length > 0) return { claimed, expired };
        return { claimed, expired, next: Number.isFinite(state.readyAt) ? state.readyAt : undefined };
      },
    ]);
    return result as { claimed: ClaimedTask[]; expired: number; next?: number | undefined };
  }

  /** take, in a transaction: an expired task's follow-up comes in it too. */
  private async takeInTransaction(request: ClaimRequest, queues: string[]): Promise<{ claimed: ClaimedTask[]; expired: number }> {
    const [result] = await this.transaction([
      async (client, fx) => {
        const t = now();
        const { rows } = await client.query<TaskRow & { p_ord: number; p_pri: number; p_due: number; seq: number }>(
          this.sql.claim,
          [queues, t, request.limit, request.workerId, t + request.leaseMs, this.purgeAt(t), EXPIRED_ERROR],
        );
        // RETURNING order is unspecified
        rows.sort((a, b) => a.p_ord - b.p_ord || b.p_pri - a.p_pri || a.p_due - b.p_due || a.seq - b.seq);
        return this.handOut(client, fx, rows, request.workerId, t);
      },
    ]);
    return result as { claimed: ClaimedTask[]; expired: number };
  }

  private async nextRunAt(queues: string[]): Promise<number | undefined> {
    const at = (await this.pool.query<{ at: number | null }>(this.named(this.sql.nextRunAt), [queues])).rows[0]?.at;
    return at === null || at === undefined ? undefined : at;
  }

  /** A worker-side transition of the live delivery, batched with others of this turn. */
  private async transition(kind: TransitionKind, task: ClaimedTask, params: unknown[]): Promise<boolean> {
    this.assertOpen();
    return this.call(kind, () => this.writes.run<boolean>({ kind, task, params }));
  }

  private async update(
    client: PoolClient,
    fx: Effects,
    kind: TransitionKind,
    task: Delivery,
    params: unknown[],
  ): Promise<TaskRow | undefined> {
    const row = (await client.query<TaskRow>(this.sql[kind], [task.id, task.workerId, task.attempt, ...params])).rows[0];
    if (row !== undefined) await this.recorded(client, fx, kind, row);
    return row;
  }

  /** A transition's row: its event, its queue's claimers woken (retry, release), its follow-up (complete, fail). */
  private async recorded(client: PoolClient, fx: Effects, kind: TransitionKind, row: TaskRow): Promise<void> {
    this.record(fx, row);
    if (kind === 'retry' || kind === 'release' || freesSlot(kind, row)) fx.wake.add(row.queue);
    if (kind === 'complete' || kind === 'fail') await this.followUp(client, fx, row, now());
  }

  /** The follow-up of a task that just ended: PENDING, due at once; an existing id (or a garbled follow-up) is left alone. */
  /** The rows a claim transaction took: leased ones handed out, expired ones (REVOKED) with their follow-ups enqueued in it. */
  private async handOut(
    client: PoolClient,
    fx: Effects,
    rows: TaskRow[],
    workerId: string,
    at: number,
  ): Promise<{ claimed: ClaimedTask[]; expired: number }> {
    const claimed: ClaimedTask[] = [];
    let expired = 0;
    for (const row of rows) {
      const decoded = decodeRow(row);
      fx.events.push({ info: decoded.info, revoked: false });
      if (row.state === 'STARTED') {
        claimed.push(toClaimed(row, decoded, workerId));
      } else {
        expired++;
        await this.followUp(client, fx, row, at);
      }
    }
    return { claimed, expired };
  }

  private async followUp(client: PoolClient, fx: Effects, row: TaskRow, at: number): Promise<void> {
    if (row.follow_up === null) return;
    let next: { id?: unknown; name?: unknown; queue?: unknown; payload?: unknown };
    try {
      next = JSON.parse(row.follow_up) as typeof next;
    } catch {
      return;
    }
    if (typeof next !== 'object' || next === null) return;
    const { id, name, queue, payload } = next;
    if (typeof id !== 'string' || typeof name !== 'string' || typeof queue !== 'string' || typeof payload !== 'string') return;
    const { rowCount } = await client.query(this.sql.followUp, [id, name, queue, payload, at]);
    if (rowCount !== null && rowCount > 0) fx.wake.add(queue);
  }

  private addWaiter(queues: readonly string[]): Waiter {
    const controller = new AbortController();
    const waiter: Waiter & { signal: AbortSignal } = {
      queues: new Set(queues),
      woken: false,
      signal: controller.signal,
      wake: () => {
        waiter.woken = true;
        controller.abort();
      },
    };
    this.waiters.add(waiter);
    return waiter;
  }

  private async sleepUntilWoken(waiter: Waiter, ms: number, signal?: AbortSignal): Promise<void> {
    const own = (waiter as Waiter & { signal: AbortSignal }).signal;
    const onAbort = (): void => waiter.wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await sleep(ms, own);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private wakeQueues(queues: Iterable<string>): void {
    const set = new Set(queues);
    for (const waiter of [...this.waiters]) {
      for (const queue of waiter.queues) {
        if (set.has(queue)) {
          waiter.wake();
          break;
        }
      }
    }
  }

  /** A NOTIFY on the channel: 'e' (events to read) or 'q:<queue>' (a task of it may be due). */
  private notified(payload: string, pid?: number): void {
    if (this.closed) return;
    // sent by one of our own connections: what it says was delivered and woken after that commit
    if (pid !== undefined && this.ownPids.has(pid)) return;
    if (payload === 'e') void this.feed.sync();
    else if (payload.startsWith('q:')) this.wakeQueues([payload.slice(2)]);
  }

  /** After a reconnect, and by the fallback poll: what a lost notification would have said. */
  private recheck(): void {
    if (this.closed) return;
    if (this.feed.listening) void this.feed.sync();
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  /**
   * A hot statement as a named (prepared) one: parsed and planned once per
   * connection, not on every call (planning the one-statement writes costs
   * more than running them). Our connections are sessions of our own (LISTEN
   * needs that already), so prepared statements stay valid on them.
   */
  private named(text: string): { name: string; text: string } {
    let name = this.statementNames.get(text);
    if (name === undefined) {
      name = `errand_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      this.statementNames.set(text, name);
    }
    return { name, text };
  }

  private purgeAt(finishedAt: number): number {
    return finishedAt + this.options.resultTtlMs;
  }

  /** host:port of the server, never the credentials. */
  private get endpoint(): string {
    try {
      const url = new URL(this.options.url);
      return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
    } catch {
      return 'the postgres server';
    }
  }

  private wrap(what: string, error: unknown): Error {
    if (error instanceof ErrandError) return error;
    if (this.closed) return new ClosedError('postgres broker');
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const detail =
      code !== undefined && code in UNREACHABLE ? `cannot reach ${this.endpoint} (${UNREACHABLE[code]}: ${message})` : message;
    return new BrokerError(`postgres ${what} failed: ${detail}`, { cause: error });
  }
}

/** The eleven column arrays of insertMany ($1…$11). */
function insertColumns(tasks: NewTask[]): unknown[] {
  const tagsOf = (task: NewTask) => (task.tags !== undefined && task.tags.length > 0 ? JSON.stringify(task.tags) : null);
  return [
    tasks.map((t) => t.id),
    tasks.map((t) => t.name),
    tasks.map((t) => t.queue),
    tasks.map((t) => t.payload),
    tasks.map((t) => t.enqueuedAt),
    tasks.map((t) => t.runAt),
    tasks.map((t) => t.expiresAt ?? null),
    tasks.map(tagsOf),
    tasks.map((t) => followUpJson(t)),
    tasks.map((t) => t.trace ?? null),
    tasks.map((t) => t.priority ?? 0),
  ];
}

/** A finish of a task with limits (the *Many statements return `limited`): a slot freed, claimers of its queue look again. */
function freesSlot(kind: TransitionKind, row: TaskRow): boolean {
  return (kind === 'complete' || kind === 'fail') && (row as TaskRow & { limited?: boolean }).limited === true;
}

/** Keyless, not debounced, not aging and not flow-controlled: the one-statement insert. */
function plainInsert(task: NewTask): boolean {
  return task.idempotencyKey === undefined && task.debounce === undefined && task.aging === undefined && !isFlow(task);
}

/** The four fields of NewTask.followUp the follow-up insert reads, as JSON, or null. */
function followUpJson(task: NewTask): string | null {
  const { followUp } = task;
  return followUp === undefined
    ? null
    : JSON.stringify({ id: followUp.id, name: followUp.name, queue: followUp.queue, payload: followUp.payload });
}

/** Node's codes for a connection that could not be made or was lost, in words a user searches for. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  EPIPE: 'connection lost',
};
