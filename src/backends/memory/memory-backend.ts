import type {
  Aging,
  Backend,
  BackendOptions,
  ClaimedTask,
  Delivery,
  ClaimRequest,
  ConcurrencyLimit,
  EnqueueOutcome,
  FollowUp,
  NewTask,
  RateLimit,
  TagFeedEntry,
  TagFeedPage,
  Unsubscribe,
} from '../../core/backend.js';
import { sleep, systemClock, type Clock, type ClockTimer } from '../../core/clock.js';
import { BrokerError, ClosedError } from '../../core/errors.js';
import { isTerminal, RUNNING_STATES, type TaskState } from '../../core/states.js';
import type { DeadLetter, TaskErrorInfo, TaskInfo, TaskProgress } from '../../core/types.js';
import { Listeners } from '../../core/listeners.js';
import { PriorityLanes } from './priority-lanes.js';
import type { Offer } from './group-rotation.js';
import { RunningKeys } from './running-keys.js';
import { RateKeys } from './rate-keys.js';
import { pendingInfo } from '../../core/pending-info.js';
import { ageStep } from '../../core/aging.js';
import { MemoryAdmin, type MemoryStore } from './memory-admin.js';

interface StoredTask {
  info: TaskInfo;
  payload: string;
  resultJson?: string;
  expiresAt?: number;
  idempotencyKey?: string;
  leaseOwner?: string;
  leaseUntil?: number;
  /** Finished tasks are deleted after this time. */
  purgeAt?: number;
  followUp?: FollowUp;
  trace?: string;
  priority: number;
  /** NewTask.group and limits, when given. */
  group?: string;
  limits?: ConcurrencyLimit[];
  rateLimits?: RateLimit[];
  /** NewTask.debounce's key and cap while the task may still absorb enqueues. */
  debounce?: { key: string; maxRunAt?: number };
  /** NewTask.aging and when the task is looked at next, while it may still rise. */
  aging?: Aging & { next: number };
}

export interface MemoryBackendOptions extends BackendOptions {
  /**
   * Where due times, leases and result expiry take the time from, and what
   * waiting claims sleep on (default: the system clock). Give the app the same
   * clock (ErrandOptions.clock); errand/testing does.
   */
  clock?: Clock;
}

/**
 * The reference adapter: everything in this process's memory. Fast and
 * exact, but neither durable nor shared between processes; it backs
 * errand/testing and documents the semantics the other adapters copy.
 */
export class MemoryBackend implements Backend {
  readonly kind = 'memory';
  readonly capabilities = {
    crossProcess: false,
    durable: false,
    flowControl: true,
    rateLimits: true,
    debounce: true,
    aging: true,
    wake: true,
  };

  private readonly tasks = new Map<string, StoredTask>();
  private readonly keys = new Map<string, string>();
  /** Ids of tasks whose priority may still rise (NewTask.aging). */
  private readonly aging = new Set<string>();
  /** Debounce key -> the id of the task it last named (which may no longer wait). */
  private readonly debounceKeys = new Map<string, string>();
  /** Ids in the order they became due, per queue; stale entries are skipped on claim. */
  private readonly ready = new Map<string, PriorityLanes>();
  /** Ids not yet due, ordered by runAt. */
  private delayed: string[] = [];
  private readonly deadLetters: DeadLetter[] = [];
  private readonly paused = new Set<string>();
  /** Running tasks per concurrency key. */
  private readonly running = new RunningKeys();
  /** Claim times and holds per rate-limit key. */
  private readonly rates = new RateKeys();
  /** Set by take(): when the earliest task it held back by a rate limit may be claimed. */
  private rateReadyAt = Infinity;
  private readonly status = new Map<string, Listeners<TaskInfo>>();
  private readonly revocations = new Listeners<string>();
  /** Per tag: task id -> cursor of its latest change, in cursor order (a change moves the id to the end). */
  private readonly tagged = new Map<string, Map<string, number>>();
  private readonly tagListeners = new Map<string, Listeners<TagFeedEntry>>();
  private feedCursor = 0;
  private readonly wakeups = new Set<() => void>();
  private delayTimer?: ClockTimer;
  private closed = false;
  protected readonly clock: Clock;
  readonly admin: MemoryAdmin;

  constructor(private readonly options: MemoryBackendOptions) {
    this.clock = options.clock ?? systemClock;
    this.admin = new MemoryAdmin(this.adminStore());
  }

  async enqueue(task: NewTask): Promise<EnqueueOutcome> {
    this.assertOpen();
    const duplicate = this.byKey(task) ?? this.debounced(task);
    if (duplicate) return duplicate;
    if (this.tasks.has(task.id)) throw new BrokerError(`a task with id ${task.id} already exists`);
    return this.store(task);
  }

  /** All or nothing: a duplicate id anywhere in the batch stores none of it. */
  async enqueueMany(tasks: NewTask[]): Promise<EnqueueOutcome[]> {
    this.assertOpen();
    const ids = new Set<string>();
    for (const task of tasks) {
      if (this.tasks.has(task.id) || ids.has(task.id)) throw new BrokerError(`a task with id ${task.id} already exists`);
      ids.add(task.id);
    }
    return tasks.map((task) => this.byKey(task) ?? this.debounced(task) ?? this.store(task));
  }

  /** Folds `task` into the waiting task its debounce key names (see NewTask.debounce), if one waits. */
  private debounced(task: NewTask): EnqueueOutcome | undefined {
    if (task.debounce === undefined) return undefined;
    const id = this.debounceKeys.get(task.debounce.key);
    const waiting = id === undefined ? undefined : this.tasks.get(id);
    if (!waiting?.debounce || waiting.info.state !== 'PENDING' || waiting.info.startedAt !== undefined) return undefined;
    const patch: Partial<TaskInfo> = {};
    const t = this.clock.now();
    if (waiting.info.runAt > t) {
      const runAt = Math.min(task.runAt, waiting.debounce.maxRunAt ?? Infinity);
      const at = this.delayed.indexOf(waiting.info.id);
      if (runAt !== waiting.info.runAt && at >= 0) {
        this.delayed.splice(at, 1);
        patch.runAt = runAt;
      }
    }
    if (task.debounce.replace) waiting.payload = task.payload;
    this.transition(waiting, 'PENDING', patch);
    if (patch.runAt !== undefined) this.schedule(waiting);
    return { id: waiting.info.id, created: false };
  }

  /** The outcome of a task whose idempotency key names a known task, else undefined. */
  private byKey(task: NewTask): EnqueueOutcome | undefined {
    if (task.idempotencyKey === undefined) return undefined;
    const id = this.keys.get(task.idempotencyKey);
    const existing = id === undefined ? undefined : this.known(id);
    if (!existing) return undefined;
    return existing.payload === task.payload && existing.info.name === task.name
      ? { id: existing.info.id, created: false }
      : { id: existing.info.id, created: false, conflict: true };
  }

  private store(task: NewTask): EnqueueOutcome {
    const stored: StoredTask = {
      info: pendingInfo(task),
      payload: task.payload,
      expiresAt: task.expiresAt,
      idempotencyKey: task.idempotencyKey,
      followUp: task.followUp,
      trace: task.trace,
      priority: task.priority ?? 0,
    };
    if (task.group !== undefined) stored.group = task.group;
    if (task.limits !== undefined) stored.limits = task.limits.map((l) => ({ ...l }));
    if (task.rateLimits !== undefined) stored.rateLimits = task.rateLimits.map((l) => ({ ...l }));
    if (task.debounce !== undefined) {
      const { key, maxRunAt } = task.debounce;
      stored.debounce = maxRunAt === undefined ? { key } : { key, maxRunAt };
      this.debounceKeys.set(key, task.id);
    }
    if (task.aging !== undefined) {
      stored.aging = { ...task.aging, next: task.runAt + task.aging.everyMs };
      this.aging.add(task.id);
    }
    this.tasks.set(task.id, stored);
    if (task.idempotencyKey !== undefined) this.keys.set(task.idempotencyKey, task.id);
    this.schedule(stored);
    this.feed(stored);
    return { id: task.id, created: true };
  }

  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    const deadline = this.clock.now() + request.waitMs;
    for (;;) {
      this.assertOpen();
      const claimed = this.take(request);
      if (claimed.length > 0 || request.signal?.aborted) return claimed;
      const left = deadline - this.clock.now();
      if (left <= 0) return claimed;
      // only rate-limited work: wake when the earliest of it may go (or on a push)
      const untilRate = this.rateReadyAt === Infinity ? left : Math.max(1, this.rateReadyAt - this.clock.now());
      await this.waitForWake(Math.min(left, untilRate), request.signal);
    }
  }

  async extendLeases(tasks: readonly Delivery[], leaseMs: number): Promise<string[]> {
    this.assertOpen();
    const lost: string[] = [];
    for (const task of tasks) {
      const stored = this.current(task);
      if (stored) stored.leaseUntil = this.clock.now() + leaseMs;
      else lost.push(task.id);
    }
    return lost;
  }

  async recordProgress(task: ClaimedTask, progress: TaskProgress): Promise<boolean> {
    const stored = this.current(task);
    if (!stored) return false;
    this.transition(stored, 'PROGRESS', { progress });
    return true;
  }

  async complete(task: ClaimedTask, resultJson: string): Promise<boolean> {
    const stored = this.current(task) ?? this.earlierUnfinished(task);
    if (!stored) return false;
    stored.resultJson = resultJson;
    this.finish(stored, 'SUCCESS', {});
    return true;
  }

  async fail(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean> {
    const stored = this.current(task);
    if (!stored) return false;
    this.finish(stored, 'FAILURE', { error });
    return true;
  }

  async deadLetter(task: ClaimedTask, error: TaskErrorInfo): Promise<boolean> {
    const stored = this.current(task);
    if (!stored) return false;
    this.deadLetters.push({
      id: task.id,
      name: task.name,
      queue: task.queue,
      payload: task.payload,
      error,
      at: this.clock.now(),
      ...(task.trace === undefined ? {} : { trace: task.trace }),
    });
    if (this.deadLetters.length > this.options.deadLetterLimit) this.deadLetters.shift();
    this.finish(stored, 'FAILURE', { error });
    return true;
  }

  async retryLater(task: ClaimedTask, error: TaskErrorInfo, runAt: number): Promise<boolean> {
    const stored = this.current(task);
    if (!stored) return false;
    this.dropLease(stored);
    this.transition(stored, 'RETRY', { error, runAt, retries: stored.info.retries + 1 });
    this.schedule(stored);
    return true;
  }

  async release(task: ClaimedTask, runAt?: number): Promise<boolean> {
    const stored = this.current(task);
    if (!stored) return false;
    this.dropLease(stored);
    this.transition(stored, 'PENDING', { attempts: stored.info.attempts - 1, runAt: runAt ?? this.clock.now() });
    this.schedule(stored);
    return true;
  }

  async wake(id: string): Promise<boolean> {
    this.assertOpen();
    const stored = this.known(id);
    const t = this.clock.now();
    if (!stored || !isClaimable(stored.info.state) || stored.info.runAt <= t) return false;
    const at = this.delayed.indexOf(id);
    if (at >= 0) this.delayed.splice(at, 1);
    this.transition(stored, stored.info.state, { runAt: t });
    this.schedule(stored);
    return true;
  }

  async holdRateLimit(task: ClaimedTask, untilMs: number): Promise<boolean> {
    const stored = this.current(task);
    if (!stored) return false;
    const keys = stored.rateLimits;
    if (keys !== undefined) this.rates.hold(keys, untilMs);
    this.dropLease(stored);
    // with keys, the hold delays it (and keeps its place); without, its own due time does
    const runAt = keys === undefined ? Math.max(untilMs, this.clock.now()) : this.clock.now();
    this.transition(stored, 'PENDING', { attempts: stored.info.attempts - 1, runAt });
    this.schedule(stored);
    return true;
  }

  async revoke(id: string): Promise<TaskInfo | null> {
    this.assertOpen();
    const stored = this.known(id);
    if (!stored) return null;
    if (isTerminal(stored.info.state)) return snapshot(stored);
    const wasRunning = RUNNING_STATES.has(stored.info.state);
    const info = this.finish(stored, 'REVOKED', {});
    if (wasRunning) this.revocations.emit(id);
    return info;
  }

  async countWaiting(queue: string): Promise<number> {
    this.assertOpen();
    let waiting = 0;
    for (const stored of this.tasks.values()) {
      if (stored.info.queue === queue && isClaimable(stored.info.state)) waiting++;
    }
    return waiting;
  }

  async getInfo(id: string): Promise<TaskInfo | null> {
    this.assertOpen();
    const stored = this.known(id);
    return stored ? snapshot(stored) : null;
  }

  async readTagFeed(tag: string, after: number, limit: number): Promise<TagFeedPage> {
    this.assertOpen();
    const entries: TagFeedEntry[] = [];
    let more = false;
    for (const [id, cursor] of this.tagged.get(tag) ?? []) {
      if (cursor <= after) continue;
      const stored = this.known(id);
      if (!stored) continue;
      if (entries.length === limit) {
        more = true;
        break;
      }
      entries.push({ cursor, info: snapshot(stored) });
    }
    return { entries, cursor: entries.at(-1)?.cursor ?? after, more };
  }

  async subscribeTag(tag: string, listener: (entry: TagFeedEntry) => void): Promise<Unsubscribe> {
    this.assertOpen();
    let set = this.tagListeners.get(tag);
    if (!set) this.tagListeners.set(tag, (set = new Listeners()));
    const off = set.add(listener);
    return async () => {
      off();
      if (set.size === 0) this.tagListeners.delete(tag);
    };
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    this.assertOpen();
    if (limit <= 0) return [];
    return this.deadLetters
      .slice(-limit)
      .reverse()
      .map((d) => ({ ...d }));
  }

  async rescueExpired(): Promise<number> {
    this.assertOpen();
    let rescued = 0;
    const t = this.clock.now();
    for (const stored of this.tasks.values()) {
      if (RUNNING_STATES.has(stored.info.state) && (stored.leaseUntil ?? Infinity) <= t) {
        this.dropLease(stored);
        this.transition(stored, 'PENDING', { runAt: t });
        this.schedule(stored);
        rescued++;
      }
    }
    return rescued;
  }

  async prune(): Promise<number> {
    this.assertOpen();
    let pruned = 0;
    const t = this.clock.now();
    for (const [id, stored] of this.tasks) {
      if (stored.purgeAt !== undefined && stored.purgeAt <= t) {
        this.tasks.delete(id);
        for (const tag of stored.info.tags ?? []) this.tagged.get(tag)?.delete(id);
        if (stored.idempotencyKey !== undefined && this.keys.get(stored.idempotencyKey) === id) {
          this.keys.delete(stored.idempotencyKey);
        }
        if (stored.debounce !== undefined && this.debounceKeys.get(stored.debounce.key) === id) {
          this.debounceKeys.delete(stored.debounce.key);
        }
        pruned++;
      }
    }
    return pruned;
  }

  async agePriorities(): Promise<number> {
    this.assertOpen();
    const t = this.clock.now();
    let raised = 0;
    for (const id of this.aging) {
      const stored = this.tasks.get(id);
      if (!stored?.aging || isTerminal(stored.info.state)) {
        this.aging.delete(id);
        continue;
      }
      if (!isClaimable(stored.info.state) || stored.aging.next > t) continue;
      const { priority, next } = ageStep({ ...stored.aging, priority: stored.priority, runAt: stored.info.runAt }, t);
      if (next === null) this.aging.delete(id);
      else stored.aging.next = next;
      if (priority === stored.priority) continue;
      stored.priority = priority;
      // its entry in the old lane goes stale: the new one, higher, is offered first
      if (stored.info.runAt <= t) this.readyQueue(stored.info.queue).push(id, priority, stored.group);
      raised++;
    }
    if (raised > 0) this.wakeClaims();
    return raised;
  }

  async subscribeStatus(id: string, listener: (info: TaskInfo) => void): Promise<Unsubscribe> {
    this.assertOpen();
    let set = this.status.get(id);
    if (!set) this.status.set(id, (set = new Listeners()));
    const off = set.add(listener);
    return async () => {
      off();
      if (set.size === 0) this.status.delete(id);
    };
  }

  async subscribeRevocations(listener: (id: string) => void): Promise<Unsubscribe> {
    this.assertOpen();
    const off = this.revocations.add(listener);
    return async () => off();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimer(this.delayTimer);
    this.wakeClaims();
  }

  // --- inspection (errand/testing) ----------------------------------------

  /** When the earliest task that is not due yet falls due, if any. */
  nextRunAt(): number | undefined {
    for (const id of this.delayed) {
      const stored = this.tasks.get(id);
      if (stored && isClaimable(stored.info.state)) return stored.info.runAt;
    }
    return undefined;
  }

  /**
   * Leases these tasks, in this order, when they are due and claimable, as
   * claim() would (their stale queue entries are skipped later): errand/testing
   * runs the tasks a delay() made, and only those, this way.
   */
  claimIds(ids: readonly string[], workerId: string, leaseMs: number): ClaimedTask[] {
    this.assertOpen();
    const t = this.clock.now();
    const out: ClaimedTask[] = [];
    for (const id of ids) {
      const claimed = this.lease(this.tasks.get(id), workerId, leaseMs, t);
      if (claimed) out.push(claimed);
    }
    return out;
  }

  /** Every queue a task was ever put in. */
  queueNames(): string[] {
    const names = new Set(this.ready.keys());
    for (const id of this.delayed) {
      const queue = this.tasks.get(id)?.info.queue;
      if (queue !== undefined) names.add(queue);
    }
    return [...names];
  }

  /** Called with every new TaskInfo and the task's payload; for subclasses that record (errand/testing). */
  protected transitioned(_info: TaskInfo, _payload: string): void {}

  // --- internals -----------------------------------------------------------

  /** The store MemoryAdmin works on. */
  private adminStore(): MemoryStore {
    const waiting = (stored: StoredTask | undefined): stored is StoredTask =>
      stored !== undefined && isClaimable(stored.info.state);
    return {
      clock: this.clock,
      assertOpen: () => this.assertOpen(),
      keptInfos: function* (this: MemoryBackend) {
        for (const stored of this.tasks.values()) if (this.known(stored.info.id)) yield stored.info;
      }.bind(this),
      record: (id) => {
        const stored = this.known(id);
        if (!stored) return undefined;
        return {
          info: snapshot(stored),
          payload: stored.payload,
          ...(stored.trace === undefined ? {} : { trace: stored.trace }),
        };
      },
      rerun: (id) => {
        const stored = this.known(id);
        if (!stored || (stored.info.state !== 'FAILURE' && stored.info.state !== 'REVOKED')) return false;
        stored.purgeAt = undefined;
        stored.resultJson = undefined;
        stored.followUp = undefined; // not armed again
        stored.debounce = undefined; // nor debounced
        for (const field of ['error', 'result', 'startedAt', 'finishedAt'] as const) delete stored.info[field];
        this.transition(stored, 'PENDING', { runAt: this.clock.now(), retries: 0 });
        this.schedule(stored);
        return true;
      },
      revokeWaiting: (id) => {
        const stored = this.known(id);
        if (!waiting(stored)) return false;
        this.finish(stored, 'REVOKED', {});
        return true;
      },
      restore: (letter) => {
        const t = this.clock.now();
        const task: NewTask = {
          id: letter.id,
          name: letter.name,
          queue: letter.queue,
          payload: letter.payload,
          enqueuedAt: t,
          runAt: t,
        };
        if (letter.trace !== undefined) task.trace = letter.trace;
        this.store(task);
      },
      deadLetters: this.deadLetters,
      paused: this.paused,
      wakeClaims: () => this.wakeClaims(),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('memory broker');
  }

  /** The stored task unless it never existed or its result expired (pruned or not). */
  private known(id: string): StoredTask | undefined {
    const stored = this.tasks.get(id);
    if (!stored || (stored.purgeAt !== undefined && stored.purgeAt <= this.clock.now())) return undefined;
    return stored;
  }

  /** The stored task if `task` is still its live delivery. */
  private current(task: Delivery): StoredTask | undefined {
    this.assertOpen();
    const stored = this.tasks.get(task.id);
    if (!stored || !RUNNING_STATES.has(stored.info.state)) return undefined;
    if (stored.leaseOwner !== task.workerId || stored.info.attempts !== task.attempt) return undefined;
    return stored;
  }

  /**
   * An earlier delivery (its lease expired; the task was given out again or
   * put back in its queue) of a task that has not finished: its success still counts (see Backend.complete).
   */
  private earlierUnfinished(task: ClaimedTask): StoredTask | undefined {
    const stored = this.tasks.get(task.id);
    if (!stored || isTerminal(stored.info.state)) return undefined;
    const { attempts, state } = stored.info;
    const earlier = task.attempt < attempts || (task.attempt === attempts && !RUNNING_STATES.has(state));
    return earlier ? stored : undefined;
  }

  private take(request: ClaimRequest): ClaimedTask[] {
    this.promoteDue();
    const out: ClaimedTask[] = [];
    const t = this.clock.now();
    this.rateReadyAt = Infinity;
    const offer = (id: string): Offer => {
      const stored = this.tasks.get(id);
      if (stored?.limits !== undefined && isClaimable(stored.info.state) && !this.running.fits(stored.limits)) return 'blocked';
      const rated = stored?.rateLimits;
      if (rated !== undefined && isClaimable(stored!.info.state) && stored!.info.runAt <= t) {
        const wait = this.rates.wait(rated, t);
        if (wait > 0) {
          this.rateReadyAt = Math.min(this.rateReadyAt, t + wait);
          return 'blocked';
        }
      }
      const claimed = this.lease(stored, request.workerId, request.leaseMs, t);
      if (!claimed) return 'dropped';
      if (rated !== undefined) this.rates.hit(rated, t);
      out.push(claimed);
      return 'taken';
    };
    for (const queue of request.queues) {
      if (this.paused.has(queue) || out.length >= request.limit) continue;
      this.ready.get(queue)?.take(request.limit - out.length, offer);
    }
    return out;
  }

  /** Hands out a due, claimable task (STARTED, attempts + 1); an expired one ends REVOKED instead. */
  private lease(stored: StoredTask | undefined, workerId: string, leaseMs: number, t: number): ClaimedTask | undefined {
    if (!stored || !isClaimable(stored.info.state) || stored.info.runAt > t) return undefined;
    if (stored.expiresAt !== undefined && stored.expiresAt <= t) {
      this.finish(stored, 'REVOKED', { error: { type: 'TaskExpired', message: 'the task expired before it started' } });
      return undefined;
    }
    stored.leaseOwner = workerId;
    stored.leaseUntil = t + leaseMs;
    this.transition(stored, 'STARTED', { attempts: stored.info.attempts + 1, startedAt: t });
    const claimed: ClaimedTask = {
      id: stored.info.id,
      name: stored.info.name,
      queue: stored.info.queue,
      payload: stored.payload,
      attempt: stored.info.attempts,
      retries: stored.info.retries,
      enqueuedAt: stored.info.enqueuedAt,
      workerId,
    };
    if (stored.trace !== undefined) claimed.trace = stored.trace;
    return claimed;
  }

  /** Puts a pending or retrying task where claim will find it when due. */
  private schedule(stored: StoredTask): void {
    if (stored.info.runAt <= this.clock.now()) {
      this.readyQueue(stored.info.queue).push(stored.info.id, stored.priority, stored.group);
      this.wakeClaims();
      return;
    }
    const at = stored.info.runAt;
    let lo = 0;
    let hi = this.delayed.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.tasks.get(this.delayed[mid]!)?.info.runAt ?? 0) <= at) lo = mid + 1;
      else hi = mid;
    }
    this.delayed.splice(lo, 0, stored.info.id);
    this.armDelayTimer();
  }

  private promoteDue(): void {
    const t = this.clock.now();
    let due = 0;
    while (due < this.delayed.length && (this.tasks.get(this.delayed[due]!)?.info.runAt ?? 0) <= t) due++;
    if (due === 0) return;
    for (const id of this.delayed.splice(0, due)) {
      const stored = this.tasks.get(id);
      if (stored && isClaimable(stored.info.state)) this.readyQueue(stored.info.queue).push(id, stored.priority, stored.group);
    }
  }

  private readyQueue(queue: string): PriorityLanes {
    let ids = this.ready.get(queue);
    if (!ids) this.ready.set(queue, (ids = new PriorityLanes()));
    return ids;
  }

  private armDelayTimer(): void {
    this.clock.clearTimer(this.delayTimer);
    const first = this.delayed[0] !== undefined ? this.tasks.get(this.delayed[0]) : undefined;
    if (!first || this.closed) return;
    this.delayTimer = this.clock.setTimer(
      () => {
        this.promoteDue();
        this.wakeClaims();
        this.armDelayTimer();
      },
      Math.max(0, first.info.runAt - this.clock.now()),
      true,
    );
  }

  private waitForWake(ms: number, signal?: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const onWake = (): void => controller.abort();
    this.wakeups.add(onWake);
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    return sleep(ms, controller.signal, this.clock).finally(() => {
      this.wakeups.delete(onWake);
      signal?.removeEventListener('abort', onAbort);
    });
  }

  private wakeClaims(): void {
    for (const wake of [...this.wakeups]) wake();
  }

  private dropLease(stored: StoredTask): void {
    stored.leaseOwner = undefined;
    stored.leaseUntil = undefined;
  }

  private finish(stored: StoredTask, state: TaskState, patch: Partial<TaskInfo>): TaskInfo {
    this.dropLease(stored);
    const t = this.clock.now();
    stored.purgeAt = t + this.options.resultTtlMs;
    const info = this.transition(stored, state, { ...patch, finishedAt: t });
    const followUp = stored.followUp;
    if (followUp !== undefined && !this.tasks.has(followUp.id)) {
      this.store({ ...followUp, enqueuedAt: t, runAt: t });
    }
    return info;
  }

  private transition(stored: StoredTask, state: TaskState, patch: Partial<TaskInfo>): TaskInfo {
    if (stored.limits !== undefined) this.countRunning(stored.limits, stored.info.state, state);
    Object.assign(stored.info, patch, { state, version: stored.info.version + 1 });
    const info = snapshot(stored);
    this.status.get(info.id)?.emit(info);
    this.feed(stored, info);
    this.transitioned(info, stored.payload);
    return info;
  }

  /** Every way into or out of the running states takes or frees the task's slots; a freed one may unblock a waiting claim. */
  private countRunning(limits: ConcurrencyLimit[], from: TaskState, to: TaskState): void {
    const was = RUNNING_STATES.has(from);
    const is = RUNNING_STATES.has(to);
    if (is && !was) this.running.take(limits);
    else if (was && !is) {
      this.running.free(limits);
      this.wakeClaims();
    }
  }

  /** Moves a tagged task to the end of its tags' feeds and tells their listeners. */
  private feed(stored: StoredTask, info?: TaskInfo): void {
    const tags = stored.info.tags;
    if (tags === undefined) return;
    const cursor = ++this.feedCursor;
    for (const tag of tags) {
      let ids = this.tagged.get(tag);
      if (!ids) this.tagged.set(tag, (ids = new Map()));
      ids.delete(stored.info.id);
      ids.set(stored.info.id, cursor);
      const listeners = this.tagListeners.get(tag);
      if (listeners !== undefined && listeners.size > 0) listeners.emit({ cursor, info: info ?? snapshot(stored) });
    }
  }
}

function isClaimable(state: TaskState): boolean {
  return state === 'PENDING' || state === 'RETRY';
}

/** A copy the caller may keep or change without touching the stored record. */
function snapshot(stored: StoredTask): TaskInfo {
  const info: TaskInfo = { ...stored.info };
  if (info.tags) info.tags = [...info.tags];
  if (info.error) info.error = { ...info.error };
  if (info.progress) info.progress = structuredClone(info.progress);
  if (stored.resultJson !== undefined) info.result = JSON.parse(stored.resultJson);
  return info;
}
