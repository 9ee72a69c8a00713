import { randomUUID } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
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
import { BrokerError, ClosedError, ConfigError, ErrandError } from '../../core/errors.js';
import type { DeadLetter, TaskErrorInfo, TaskInfo, TaskProgress } from '../../core/types.js';
import { siblingModule } from '../../core/module-url.js';
import { trackClosed, trackOpened } from '../../core/resources.js';
import { RedisAdmin } from './admin.js';
import { callScript, defineScripts, type ScriptArg } from './scripts.js';
import { isClusterUrl, openCluster, openSlotConnection, type RedisClient } from './cluster.js';
import { BlockingWait } from './blocking-wait.js';
import { claimedFromReply } from './claim-reply.js';
import { GroupCommit, type Pending } from './group-commit.js';
import { describeCause, endpointOf, UNREACHABLE } from './redis-errors.js';
import {
  encodeAging,
  encodeDebounce,
  encodeFlow,
  encodeFollowUp,
  encodePriority,
  encodeStatic,
  INFO_FIELDS,
  infoFromFields,
  ownerToken,
  parseInfo,
} from './codec.js';
import { RedisKeys } from './keys.js';
import { StatusSubscriber } from './status-subscriber.js';
import { TagFeeds } from './tag-feed.js';
import { CLAIM_LUA } from './lua/claim.js';
import { CLAIM_FINISH_LUA } from './lua/claim-finish.js';
import { ENQUEUE_LUA } from './lua/enqueue.js';
import { EXTEND_LUA } from './lua/extend.js';
import { FINISH_LUA } from './lua/finish.js';
import { PROGRESS_LUA } from './lua/progress.js';
import { COUNT_WAITING_LUA } from './lua/count-waiting.js';
import { AGE_LUA } from './lua/age.js';
import { WAKE_LUA } from './lua/wake.js';
import { READ_TAG_FEED_LUA } from './lua/read-tag-feed.js';
import { RELEASE_LUA } from './lua/release.js';
import { RESCUE_LUA } from './lua/rescue.js';
import { RETRY_LUA } from './lua/retry.js';
import { REVOKE_LUA } from './lua/revoke.js';

export interface RedisBackendOptions extends BackendOptions {
  /**
   * redis:// or rediss:// URL (host, port, db, credentials), or
   * redis+cluster://host:port,host:port,… (rediss+cluster:// for TLS) for a
   * Redis Cluster (see cluster.ts).
   */
  url: string;
  /** Key prefix, default 'errand'; keys are '{prefix}:…' (one cluster slot per prefix). */
  prefix?: string;
}

/** Tasks agePriorities looks at per call (Backend.agePriorities). */
const AGING_BATCH = 1000;

/** One atomic operation per script, registered with defineCommand (EVALSHA, EVAL on NOSCRIPT). */
const SCRIPTS = {
  errandEnqueue: ENQUEUE_LUA,
  errandClaim: CLAIM_LUA,
  errandClaimFinish: CLAIM_FINISH_LUA,
  errandFinish: FINISH_LUA,
  errandProgress: PROGRESS_LUA,
  errandRetry: RETRY_LUA,
  errandRelease: RELEASE_LUA,
  errandRevoke: REVOKE_LUA,
  errandExtend: EXTEND_LUA,
  errandRescue: RESCUE_LUA,
  errandReadTagFeed: READ_TAG_FEED_LUA,
  errandCountWaiting: COUNT_WAITING_LUA,
  errandAge: AGE_LUA,
  errandWake: WAKE_LUA,
} as const;
type ScriptName = keyof typeof SCRIPTS;

/** Tasks per enqueue script call; ops per finish script call. */
const ENQUEUE_CHUNK = 1000;
const FINISH_CHUNK = 500;
/** Due delayed tasks moved to a ready list per queue and claim call. */
const PROMOTE_CHUNK = 1000;
/** Lease entries examined per rescue script call. */
const RESCUE_CHUNK = 1000;

/**
 * Tasks in Redis, shared by any number of processes and machines.
 *
 * Every state change is one Lua script (lua/*.ts) that checks, writes,
 * publishes the new TaskInfo and moves the task between lists atomically;
 * times are the callers' clocks (core/clock), passed in as ARGV.
 *
 * Connections: one for commands (scripts, reads), one for blocking claims
 * (blocking-wait.ts), one subscriber for status, tag and revocation channels
 * (status-subscriber.ts). The last two are opened on first use.
 *
 * Round trips on the busy path: enqueueMany is one script call per 1000
 * tasks; claim one per batch; complete/fail/deadLetter calls made in the
 * same event-loop turn are coalesced into one script call (batch ack).
 * The operations half (Backend.admin) is admin.ts; claim's only cost for it
 * is one SISMEMBER per queue (paused queues).
 */
export class RedisBackend implements Backend {
  readonly kind = 'redis';
  readonly capabilities = {
    crossProcess: true,
    durable: true,
    flowControl: true,
    rateLimits: true,
    debounce: true,
    aging: true,
    wake: true,
  };
  /** Appears in this instance's connection names: errand:<role>:<instanceId> (CLIENT LIST). */
  readonly instanceId = randomUUID().slice(0, 8);
  readonly spec: BackendSpec;
  readonly admin: RedisAdmin;

  private readonly keys: RedisKeys;
  private readonly redis: RedisClient;
  /** The command client is a Cluster (redis+cluster:// URL). */
  private readonly cluster: boolean;
  private readonly blocking: BlockingWait;
  private readonly subscriber: StatusSubscriber;
  private readonly tags: TagFeeds;
  private readonly enqueues = new GroupCommit<NewTask, EnqueueOutcome>((tasks) => this.store(tasks), ENQUEUE_CHUNK);
  /**
   * Acks wait two turns of the event loop before they go alone: a worker that
   * freed a slot claims within one (its burst wait), and its claim carries
   * them (claim-finish.lua), so a busy worker sends one command per task.
   * While a claim blocks for work, none is coming: they go at once.
   */
  private readonly finishes = new GroupCommit<ScriptArg[], boolean>(
    (ops) => this.runFinish(ops),
    FINISH_CHUNK,
    (send) => (this.blockedClaims > 0 ? queueMicrotask(send) : setImmediate(() => setImmediate(send))),
  );
  /** Claims waiting in the blocking wait (nothing to claim). */
  private blockedClaims = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly owners = new Map<string, string>();
  private readonly closing = new AbortController();
  private closePromise?: Promise<void>;
  private closed = false;
  /** The last connection-level error (refused, reset, DNS), until a connection is ready again. */
  private connectionError?: Error;

  constructor(private readonly options: RedisBackendOptions) {
    if (!options.url) throw new ConfigError('the redis backend needs a url');
    const prefix = options.prefix ?? 'errand';
    if (prefix.length === 0 || /[{}\s]/.test(prefix)) {
      throw new ConfigError(`redis prefix "${prefix}" must be non-empty, without braces or spaces`);
    }
    this.keys = new RedisKeys(prefix);
    this.spec = { module: siblingModule(import.meta.url, 'index'), options: { ...options } };
    this.cluster = isClusterUrl(options.url);
    this.redis = this.cluster ? this.connectCluster() : this.connect('cmd', {});
    defineScripts(this.redis, SCRIPTS);
    this.blocking = new BlockingWait({
      keys: this.keys,
      commandFor: (conn) => this.commandFor(conn),
      closing: this.closing.signal,
      connect: (role, extra) => this.connect(role, extra),
    });
    this.subscriber = new StatusSubscriber({
      keys: this.keys,
      sharded: this.cluster,
      connect: (role, extra) => this.connect(role, extra),
      getInfo: (id) => this.getInfo(id),
      wrap: (what, error) => this.wrap(what, error),
      isClosed: () => this.closed,
    });
    this.tags = new TagFeeds({
      keys: this.keys,
      redis: this.redis,
      listen: (channel) => this.subscriber.listen(channel),
      unlisten: (channel) => this.subscriber.unlisten(channel),
      readPage: (tag, after, limit) =>
        this.call('readTagFeed', 'errandReadTagFeed', [this.keys.tagFeed(tag)], [this.keys.base, after, limit]),
      wrap: (what, error) => this.wrap(what, error),
      isClosed: () => this.closed,
    });
    this.subscriber.attachTags(this.tags);
    this.admin = new RedisAdmin({
      keys: this.keys,
      redis: this.redis,
      resultTtlMs: options.resultTtlMs,
      assertOpen: () => this.assertOpen(),
      run: (what, command) => this.run(what, command),
    });
    trackOpened(this, `redis backend prefix ${prefix} (connections errand:*:${this.instanceId})`);
  }

  // --- producer side ---------------------------------------------------------

  /**
   * Enqueues are group-committed: one alone goes out at once, and those made
   * while a batch is in flight (many requests at once) leave together as one
   * script call. Each caller resolves only once its task is stored.
   */
  async enqueue(task: NewTask): Promise<EnqueueOutcome> {
    this.assertOpen();
    return this.enqueues.submit(task);
  }

  async enqueueMany(tasks: NewTask[]): Promise<EnqueueOutcome[]> {
    this.assertOpen();
    return this.store(tasks);
  }

  /** Stores tasks in chunks; enqueues already handed to us still go out during close(). */
  private async store(tasks: NewTask[]): Promise<EnqueueOutcome[]> {
    const out: EnqueueOutcome[] = [];
    for (let i = 0; i < tasks.length; i += ENQUEUE_CHUNK) {
      out.push(...(await this.enqueueChunk(tasks.slice(i, i + ENQUEUE_CHUNK))));
    }
    return out;
  }

  /**
   * One enqueue script call (see lua/enqueue.ts for the layout): the static
   * fragment (name, queue, enqueue time) that tasks of a batch share is sent
   * once, and the reply carries one outcome character per task plus the ids
   * of the tasks not created, so a batch of 1000 costs little on the wire.
   */
  private async enqueueChunk(tasks: NewTask[]): Promise<EnqueueOutcome[]> {
    const queueIndex = new Map<string, number>();
    const fragmentIndex = new Map<string, number>();
    const keys: string[] = [];
    const fragments: ScriptArg[] = [];
    const perTask: ScriptArg[] = [];
    for (const t of tasks) {
      const priority = encodePriority(t) + encodeAging(t);
      const shared = `${t.enqueuedAt}\u0000${t.queue}\u0000${t.name}\u0000${priority}${t.tags?.length ? `\u0000${JSON.stringify(t.tags)}` : ''}`;
      let fi = fragmentIndex.get(shared);
      if (fi === undefined) {
        let qi = queueIndex.get(t.queue);
        if (qi === undefined) {
          qi = queueIndex.size + 1;
          queueIndex.set(t.queue, qi);
          keys.push(...this.keys.queueKeys(t.queue));
        }
        fi = fragmentIndex.size + 1;
        fragmentIndex.set(shared, fi);
        fragments.push(encodeStatic(t), qi, priority, t.enqueuedAt);
      }
      const key =
        t.debounce !== undefined ? encodeDebounce(t.debounce) : t.idempotencyKey === undefined ? '' : `=${t.idempotencyKey}`;
      perTask.push(t.id, fi, t.payload, t.runAt, t.expiresAt ?? '', key, encodeFollowUp(t), t.trace ?? '', encodeFlow(t));
    }
    const ttl = this.options.resultTtlMs;
    const args: ScriptArg[] = [this.keys.base, now(), ttl, fragmentIndex.size, ...fragments, ...perTask];
    const reply = (await this.call('enqueue', 'errandEnqueue', keys, args)) as unknown[];
    const outcomes = String(reply[0] ?? '');
    if (outcomes.length !== tasks.length) {
      throw new BrokerError(`redis enqueue answered ${outcomes.length} outcomes for ${tasks.length} tasks`);
    }
    const out = new Array<EnqueueOutcome>(tasks.length);
    let known = 1;
    for (let i = 0; i < tasks.length; i++) {
      // '1' created; '0' the key's known task; '2' that task, enqueued with another name or payload
      const c = outcomes.charCodeAt(i);
      if (c === 49) out[i] = { id: tasks[i]!.id, created: true };
      else if (c === 50) out[i] = { id: String(reply[known++]), created: false, conflict: true };
      else out[i] = { id: String(reply[known++]), created: false };
    }
    return out;
  }

  // --- claiming ----------------------------------------------------------------

  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    const deadline = now() + request.waitMs;
    for (;;) {
      this.assertOpen();
      const { tasks, nextDue } = await this.claimOnce(request);
      if (tasks.length > 0 || request.signal?.aborted) return tasks;
      const t = now();
      let wait = deadline - t;
      if (wait <= 0) return tasks;
      if (nextDue >= 0) wait = Math.min(wait, nextDue - t);
      if (wait > 0) {
        this.blockedClaims++;
        try {
          await this.blocking.wait(request.queues, wait, request.signal);
        } finally {
          this.blockedClaims--;
        }
      }
    }
  }

  private async claimOnce(request: ClaimRequest): Promise<{ tasks: ClaimedTask[]; nextDue: number }> {
    const keys = [this.keys.leases, this.keys.paused];
    for (const queue of request.queues) keys.push(...this.keys.queueKeys(queue));
    const args = [
      this.keys.base,
      now(),
      this.owner(request.workerId),
      request.leaseMs,
      request.limit,
      this.options.resultTtlMs,
      PROMOTE_CHUNK,
    ];
    const acks = this.finishes.take(FINISH_CHUNK);
    const reply = (
      acks.length === 0 ? await this.call('claim', 'errandClaim', keys, args) : await this.claimAfterAcks(keys, args, acks)
    ) as Array<string | number | null>;
    const tasks: ClaimedTask[] = [];
    for (let i = 1; i < reply.length; i += 7) {
      tasks.push(claimedFromReply(reply, i, request));
    }
    return { tasks, nextDue: Number(reply[0]) };
  }

  /** The queued acks and the claim in one script call (lua/claim-finish.ts); answers the acks. */
  private async claimAfterAcks(
    keys: string[],
    args: ScriptArg[],
    acks: Array<Pending<ScriptArg[], boolean>>,
  ): Promise<unknown[]> {
    args.push(this.options.deadLetterLimit);
    for (const ack of acks) args.push(...ack.item);
    let reply: unknown[];
    try {
      reply = (await this.call('claim', 'errandClaimFinish', keys, args)) as unknown[];
    } catch (error) {
      for (const ack of acks) ack.reject(error);
      throw error;
    }
    acks.forEach((ack, i) => ack.resolve(reply[i + 1] === 1));
    return reply.slice(Number(reply[0]) + 1);
  }

  async extendLeases(tasks: readonly Delivery[], leaseMs: number): Promise<string[]> {
    this.assertOpen();
    if (tasks.length === 0) return [];
    const args: ScriptArg[] = [this.keys.base, now(), leaseMs];
    for (const t of tasks) args.push(t.id, this.owner(t.workerId), t.attempt);
    const lost = (await this.call('extendLeases', 'errandExtend', [this.keys.leases], args)) as string[];
    return lost.map(String);
  }

  // --- worker-side transitions -------------------------------------------------

  async recordProgress(task: ClaimedTask, progress: TaskProgress): Promise<boolean> {
    this.assertOpen();
    const args = [
      this.keys.base,
      task.id,
      this.owner(task.workerId),
      task.attempt,
      JSON.stringify(progress),
      this.options.resultTtlMs,
    ];
    // KEYS[1] is not read by the script: it routes the call to the prefix's slot on a cluster
    return (await this.call('recordProgress', 'errandProgress', [this.keys.task(task.id)], args)) !== null;
  }

  complete(task: ClaimedTask, resultJson: string): Promise<boolean> {
    return this.finish(['S', task.id, this.owner(task.workerId), task.attempt, resultJson, '']);
  }

  fail(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean> {
    return this.finish(['F', task.id, this.owner(task.workerId), task.attempt, errorJson(error), '']);
  }

  deadLetter(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean> {
    const letter: DeadLetter = {
      id: task.id,
      name: task.name,
      queue: task.queue,
      payload: task.payload,
      error: { type: error.type, message: error.message },
      at: now(),
    };
    if (task.trace !== undefined) letter.trace = task.trace;
    return this.finish(['D', task.id, this.owner(task.workerId), task.attempt, errorJson(error), JSON.stringify(letter)]);
  }

  async retryLater(task: ClaimedTask, error: TaskErrorInfo, runAt: number): Promise<boolean> {
    this.assertOpen();
    const args = [...this.deliveryArgs(task), errorJson(error), runAt, this.options.resultTtlMs];
    return (await this.call('retryLater', 'errandRetry', this.requeueKeys(task), args)) !== null;
  }

  async release(task: ClaimedTask, runAt?: number): Promise<boolean> {
    this.assertOpen();
    const args: ScriptArg[] = [...this.deliveryArgs(task), this.options.resultTtlMs];
    if (runAt !== undefined) args.push(Math.floor(runAt), 1);
    return (await this.call('release', 'errandRelease', this.requeueKeys(task), args)) !== null;
  }

  async wake(id: string): Promise<boolean> {
    this.assertOpen();
    const { base } = this.keys;
    return (await this.call('wake', 'errandWake', [this.keys.task(id)], [base, now(), id, this.options.resultTtlMs])) === 1;
  }

  /** release() that also blocks the task's rate keys until `untilMs` (lua/release.ts, ARGV[7]). */
  async holdRateLimit(task: ClaimedTask, untilMs: number): Promise<boolean> {
    this.assertOpen();
    const args = [...this.deliveryArgs(task), this.options.resultTtlMs, Math.floor(untilMs)];
    return (await this.call('holdRateLimit', 'errandRelease', this.requeueKeys(task), args)) !== null;
  }

  /** ARGV[1..5] of the scripts that put a delivery back in its queue: base, now, id, owner, attempt. */
  private deliveryArgs(task: ClaimedTask): ScriptArg[] {
    return [this.keys.base, now(), task.id, this.owner(task.workerId), task.attempt];
  }

  /** Their KEYS: the leases and the task's queue keys. */
  private requeueKeys(task: ClaimedTask): string[] {
    return [this.keys.leases, ...this.keys.queueKeys(task.queue)];
  }

  /** Batch ack: finishing ops are group-committed like enqueues. */
  private finish(args: ScriptArg[]): Promise<boolean> {
    this.assertOpen();
    return this.finishes.submit(args);
  }

  private async runFinish(ops: ScriptArg[][]): Promise<boolean[]> {
    const args: ScriptArg[] = [this.keys.base, now(), this.options.resultTtlMs, this.options.deadLetterLimit];
    for (const op of ops) args.push(...op);
    try {
      const reply = (await this.track(this.script('errandFinish', [this.keys.leases, this.keys.dead], args))) as unknown[];
      return ops.map((_, i) => reply[i] === 1);
    } catch (error) {
      throw this.wrap('complete', error);
    }
  }

  // --- control and reads -------------------------------------------------------

  async revoke(id: string): Promise<TaskInfo | null> {
    this.assertOpen();
    const args = [this.keys.base, now(), id, this.options.resultTtlMs];
    const reply = (await this.call('revoke', 'errandRevoke', [this.keys.leases], args)) as [string | null, number] | null;
    if (!reply) return null;
    try {
      return parseInfo(reply[0]);
    } catch {
      // A corrupt record (the script embeds its stored JSON as it is): reported as getInfo reports it.
      return this.getInfo(id);
    }
  }

  /**
   * The ready list, the priority zset, the delayed set (RETRY waits there
   * too) and every fair group's list, in one script (lua/count-waiting.ts);
   * the delayed set's sentinels may count as one each (an upper bound). See
   * Backend.countWaiting on revoked entries.
   */
  async countWaiting(queue: string): Promise<number> {
    this.assertOpen();
    const { keys } = this;
    const rotation = `${keys.base}fr:${queue}`;
    const ids = [keys.ready(queue), keys.delayed(queue), keys.prioritized(queue), rotation];
    return Number(await this.call('countWaiting', 'errandCountWaiting', ids, [keys.base, queue]));
  }

  async agePriorities(): Promise<number> {
    this.assertOpen();
    const { base } = this.keys;
    return Number(await this.call('agePriorities', 'errandAge', [`${base}ag`], [base, now(), AGING_BATCH]));
  }

  async getInfo(id: string): Promise<TaskInfo | null> {
    this.assertOpen();
    try {
      return infoFromFields(id, await this.redis.hmget(this.keys.task(id), ...INFO_FIELDS));
    } catch (error) {
      throw this.wrap('getInfo', error);
    }
  }

  async readTagFeed(tag: string, after: number, limit: number): Promise<TagFeedPage> {
    this.assertOpen();
    return this.tags.read(tag, after, limit);
  }

  async subscribeTag(tag: string, listener: (entry: TagFeedEntry) => void): Promise<Unsubscribe> {
    this.assertOpen();
    return this.tags.subscribe(tag, listener);
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    this.assertOpen();
    if (limit <= 0) return [];
    try {
      const items = await this.redis.lrange(this.keys.dead, 0, limit - 1);
      return items.map((item) => JSON.parse(item) as DeadLetter);
    } catch (error) {
      throw this.wrap('listDeadLetters', error);
    }
  }

  async rescueExpired(): Promise<number> {
    this.assertOpen();
    let rescued = 0;
    for (;;) {
      const args = [this.keys.base, now(), RESCUE_CHUNK, this.options.resultTtlMs];
      const [n, examined] = (await this.call('rescueExpired', 'errandRescue', [this.keys.leases], args)) as [number, number];
      rescued += Number(n);
      if (Number(examined) < RESCUE_CHUNK) return rescued;
    }
  }

  /**
   * Nothing to do: finished tasks and their idempotency keys carry a PEXPIRE
   * of resultTtlMs, so Redis deletes them itself (storage stays bounded with
   * no sweeper). Returns 0.
   */
  async prune(): Promise<number> {
    this.assertOpen();
    return 0;
  }

  // --- events ------------------------------------------------------------------

  async subscribeStatus(id: string, listener: (info: TaskInfo) => void): Promise<Unsubscribe> {
    this.assertOpen();
    return this.subscriber.subscribeStatus(id, listener);
  }

  async subscribeRevocations(listener: (id: string) => void): Promise<Unsubscribe> {
    this.assertOpen();
    return this.subscriber.subscribeRevocations(listener);
  }

  // --- lifecycle ---------------------------------------------------------------

  close(): Promise<void> {
    this.closePromise ??= this.shutdown();
    return this.closePromise;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    // Blocked claims: their BZPOPMIN fails at once, the claim loop throws ClosedError.
    this.blocking.disconnect();
    this.subscriber.close();
    // Enqueues and acks already handed to us still go out.
    await Promise.all([this.enqueues.drain(), this.finishes.drain()]);
    await Promise.allSettled([...this.inflight]);
    this.tags.clear();
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.redis.disconnect();
    trackClosed(this);
  }

  // --- internals ---------------------------------------------------------------

  /**
   * A connection of its own (commands, blocking claims, the subscriber). On
   * a cluster, the blocking and subscriber connections go to the master of
   * the prefix's slot (cluster.ts openSlotConnection).
   */
  private connect(role: string, extra: RedisOptions): Redis {
    const options: RedisOptions = {
      connectionName: `errand:${role}:${this.instanceId}`,
      // fail commands after a few reconnect attempts (as BrokerError) instead of queueing for long
      maxRetriesPerRequest: 3,
      ...extra,
    };
    const conn = this.cluster
      ? openSlotConnection(this.options.url, this.redis as Cluster, this.keys.base, options)
      : new Redis(this.options.url, options);
    // Errors surface on the commands that hit them (wrap() names the cause
    // kept here); this also keeps ioredis from reporting an unhandled
    // 'error' event while it reconnects.
    conn.on('error', (error: Error) => (this.connectionError = error));
    conn.on('ready', () => (this.connectionError = undefined));
    return conn;
  }

  /** The Cluster client of a redis+cluster:// URL; its node connections are named errand:cmd:<instanceId>. */
  private connectCluster(): Cluster {
    const cluster = openCluster(
      this.options.url,
      { connectionName: `errand:cmd:${this.instanceId}`, maxRetriesPerRequest: 3 },
      {
        // As on one Redis (maxRetriesPerRequest 3): while no node answers, commands queued
        // for the cluster fail after the third attempt (BrokerError) instead of waiting for good.
        clusterRetryStrategy(this: Cluster, times: number) {
          if (times >= 3) (this as unknown as FlushableCluster).flushQueue?.(new Error(CLUSTER_UNREACHABLE));
          return Math.min(100 + times * 2, 2000);
        },
      },
    );
    // a node's own error (connection refused…) names the cause better than the cluster's summary
    cluster.on('node error', (error: Error) => (this.connectionError = error));
    cluster.on('error', (error: Error) => (this.connectionError ??= error));
    cluster.on('ready', () => (this.connectionError = undefined));
    return cluster;
  }

  /** Where CLIENT UNBLOCK for a blocking connection goes: the node it is connected to. */
  private commandFor(conn: Redis): RedisClient {
    if (!(this.redis instanceof Cluster)) return this.redis;
    const { host, port } = conn.options;
    return this.redis.nodes('master').find((n) => n.options.host === host && n.options.port === port) ?? this.redis;
  }

  /** The lease owner the scripts store for a worker id (codec.ts ownerToken), computed once per worker. */
  private owner(workerId: string): string {
    let token = this.owners.get(workerId);
    if (token === undefined) {
      if (this.owners.size >= 1000) this.owners.clear();
      token = ownerToken(workerId);
      this.owners.set(workerId, token);
    }
    return token;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('redis broker');
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    void promise.finally(() => this.inflight.delete(promise)).catch(() => {});
    return promise;
  }

  private script(name: ScriptName, keys: string[], args: ScriptArg[]): Promise<unknown> {
    return callScript(this.redis, name, keys, args);
  }

  private call(what: string, name: ScriptName, keys: string[], args: ScriptArg[]): Promise<unknown> {
    return this.run(what, () => this.script(name, keys, args));
  }

  /** Tracked for close(), errors wrapped. */
  private async run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await this.track(command());
    } catch (error) {
      throw this.wrap(what, error);
    }
  }

  private wrap(what: string, error: unknown): Error {
    if (error instanceof ErrandError) return error;
    if (this.closed) return new ClosedError('redis broker');
    const message = error instanceof Error ? error.message : String(error);
    const unreachable = this.connectionError && UNREACHABLE.test(message);
    const detail = unreachable
      ? `cannot reach ${endpointOf(this.options.url)} (${describeCause(this.connectionError!)})`
      : message;
    return new BrokerError(`redis ${what} failed: ${detail}`, { cause: this.connectionError ?? error });
  }
}

/** What queued cluster commands fail with while no node answers (UNREACHABLE matches it). */
const CLUSTER_UNREACHABLE = 'Reached the max retries per request limit: no node of the cluster answers';
/** Cluster#flushQueue (rejects the offline queue): ioredis's own, not in its types. */
interface FlushableCluster {
  flushQueue?(error: Error): void;
}

function errorJson(error: TaskErrorInfo): string {
  return JSON.stringify({ type: error.type, message: error.message });
}
