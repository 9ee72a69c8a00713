import { randomUUID } from 'node:crypto';
import { AsyncResult } from './async-result.js';
import { BeatLoop, tickKey, type BeatHandle } from './beat/beat-loop.js';
import { planSchedule, type CronPlanner, type ScheduleEntry, type ScheduleSpec } from './beat/schedule-spec.js';
import type { Backend, EnqueueOutcome, NewTask, TagFeedEntry, TagFeedPage } from './backend.js';
import { systemClock, type Clock } from './clock.js';
import type { ChildOptions, GroupSender } from './context.js';
import { BrokerError, ClosedError, ConfigError, DuplicateTaskError, IdempotencyConflictError } from './errors.js';
import { encodeJson } from './json.js';
import { silentLogger, type Logger } from './logger.js';
import { createRetryPolicy } from './retry-policy.js';
import type { RunDependencies } from './run-task.js';
import type {
  ApplyOptions,
  BulkItem,
  IdempotencyOptions,
  SendItem,
  Task,
  TaskDefinition,
  TaskHandler,
  TaskOptions,
} from './task.js';
import type { DeadLetter, JsonValue, TaskInfo } from './types.js';
import { watchTask, type WatchOptions } from './watch.js';
import { watchTag, type WatchTagOptions } from './watch-tag.js';
import { checkTag, checkTags } from './tags.js';
import { Instruments, type Instrumentation } from './instrumentation.js';
import { callbackDeliveryId, type CallbackOptions, type CallbackSender } from './callbacks/callback-options.js';
import { deliveryRecord, type CallbackDelivery } from './callbacks/callback-delivery.js';
import { EndpointCallbacks } from './callbacks/endpoint-callbacks.js';
import { Worker, type WorkerOptions } from './worker.js';
import { Admin } from './admin/admin.js';
import { checkPriority } from './priority.js';
import { applyFlowControl, checkFlowOptions } from './flow-control.js';
import { checkAging } from './aging.js';
import { childKey, RESUME_TASK } from './child-tasks.js';
import { signature, type MemberOptions, type Signature } from './workflows/signature.js';
import type { WorkflowHandle } from './workflows/workflow-handle.js';
import { Workflows } from './workflows/workflows.js';
import { isolatedHandler, IsolationPools } from './isolation/isolated-handler.js';

export interface ErrandOptions {
  /** Largest encoded arguments or result, in bytes (default 1 MiB). */
  payloadLimitBytes?: number;
  logger?: Logger;
  /** Close the backend on close() (default true; false when the caller owns it). */
  ownsBackend?: boolean;
  /**
   * Where enqueue times, countdowns, retry backoff and time limits take the
   * time from (default: the system clock). The backend must read the same
   * clock: only MemoryBackend takes one (its `clock` option); errand/testing
   * wires both.
   */
  clock?: Clock;
  /** What to do when an idempotency key is reused with other arguments (default { onConflict: 'warn' }). */
  idempotency?: IdempotencyOptions;
  /** How cron schedules are read (createApp and errand/testing pass cron-parser's); without it only { every } schedules work. */
  cronPlanner?: CronPlanner;
  /** The channel layer ctx.groupSend sends to (e.g. errand/channels' createRedisChannelLayer); the app does not close it. */
  channels?: GroupSender;
  /** How endpoint callbacks (ApplyOptions.callback) are signed and delivered; see docs/callbacks.md. */
  callbacks?: CallbackOptions;
  /** What POSTs the callbacks (createApp passes errand's HTTP sender); without it ApplyOptions.callback is a ConfigError. */
  callbackSender?: CallbackSender;
  /** How long a workflow's record (chain, group, chord) is kept after it was applied (default 7 days). */
  workflowTtlMs?: number;
}

/** What send needs of a task: a registered definition, or a name only (sendTask of an unknown task). */
type Sendable = Pick<TaskDefinition, 'name' | 'queue' | 'idempotency' | 'priority' | 'flow' | 'aging'>;

interface Pending {
  definition: Sendable;
  args: unknown[];
  options: ApplyOptions;
}

const NO_OPTIONS: ApplyOptions = Object.freeze({});

export const DEFAULT_PAYLOAD_LIMIT = 1024 * 1024;

/**
 * An errand app: the task registry plus the means to enqueue, follow and
 * run tasks on one backend. Producers and workers build the same app (the
 * same task definitions) in their own processes.
 */
export class Errand {
  readonly backend: Backend;
  private readonly registry = new Map<string, TaskDefinition>();
  private readonly workers = new Set<Worker>();
  private readonly schedules = new Map<string, ScheduleEntry>();
  private readonly beats = new Set<BeatHandle>();
  private readonly cronPlanner?: CronPlanner;
  private readonly channels?: GroupSender;
  private readonly callbacks?: EndpointCallbacks;
  private readonly instruments = new Instruments();
  private readonly payloadLimitBytes: number;
  /** The app's logger (createApp's `logger`); errand/web logs there unless told otherwise. */
  readonly logger: Logger;
  private readonly ownsBackend: boolean;
  private readonly onConflict: 'warn' | 'error';
  /** Where this app takes the time from (see ErrandOptions.clock). */
  readonly clock: Clock;
  private closed = false;
  private adminApi?: Admin;
  private readonly workflows: Workflows;
  private readonly isolation = new IsolationPools();

  constructor(backend: Backend, options: ErrandOptions = {}) {
    this.backend = backend;
    this.payloadLimitBytes = options.payloadLimitBytes ?? DEFAULT_PAYLOAD_LIMIT;
    this.logger = options.logger ?? silentLogger;
    this.ownsBackend = options.ownsBackend ?? true;
    this.clock = options.clock ?? systemClock;
    this.onConflict = checkIdempotency('idempotency', options.idempotency)?.onConflict ?? 'warn';
    this.cronPlanner = options.cronPlanner;
    this.channels = options.channels;
    if (options.callbackSender) {
      this.callbacks = EndpointCallbacks.setUp(
        options.callbackSender,
        options.callbacks ?? {},
        this.backend,
        (name, handler, opts) => this.task(name, handler, opts),
      );
    } else if (options.callbacks) throw new ConfigError('callbacks need a sender: createApp sets one up');
    this.workflows = new Workflows({
      backend: this.backend,
      now: () => this.clock.now(),
      build: (name, args, applyOptions, id) => {
        this.assertOpen();
        return this.newTask(this.definitionOf(name), args, applyOptions, this.clock.now(), `${name} args`, id);
      },
      define: (name, handler, taskOptions) => this.task(name, handler, taskOptions),
      checkMember: (name, what) => {
        const scope = this.definitionOf(name).flow?.debounce?.scope;
        if (scope !== undefined) throw new ConfigError(`${what}: task ${name} has ${scope}, so it cannot be a workflow member`);
      },
      ttlMs: options.workflowTtlMs ?? 7 * 24 * 60 * 60 * 1000,
    });
    // a child's end (ctx.enqueue) resumes the parent waiting for it (ctx.waitFor)
    this.task(RESUME_TASK, async (_ctx, parentId: string) => Boolean(await this.backend.wake?.(parentId)), {
      retry: { max: 10, backoff: { base: 200, cap: 30_000 } },
    });
  }

  /**
   * Runs signatures one after another, each getting the previous result as
   * its first argument (Celery's chain); a failure stops it. Resolves once
   * the first step is stored.
   */
  chain<R = unknown>(...steps: Signature[]): Promise<WorkflowHandle<R>> {
    this.assertOpen();
    return this.workflows.apply<R>('chain', steps);
  }

  /** Runs signatures in parallel; the handle's result is their results, in order. */
  group<R extends unknown[] = unknown[]>(members: readonly Signature[]): Promise<WorkflowHandle<R>> {
    this.assertOpen();
    return this.workflows.apply<R>('group', members);
  }

  /** A group, then `callback` (once, with the results array as its first argument) when every member succeeded. */
  chord<R = unknown>(members: readonly Signature[], callback: Signature<R>): Promise<WorkflowHandle<R>> {
    this.assertOpen();
    return this.workflows.apply<R>('chord', members, callback);
  }

  /** A handle on a workflow by id (e.g. from another process). */
  workflow<R = unknown>(id: string): WorkflowHandle<R> {
    return this.workflows.handle<R>(id);
  }

  /**
   * Registers a task; argument and result types flow from `handler` to delay/applyAsync, and
   * the progress meta type from its ctx annotation (`ctx: TaskContext<{ step: string }>`).
   */
  task<A extends unknown[], R, M extends JsonValue = JsonValue>(
    name: string,
    handler: TaskHandler<A, R, M>,
    options?: TaskOptions,
  ): Task<A, Awaited<R>, M>;
  /** An isolated task: its handler is the default export (or `export`) of `module`, run in a thread or process. */
  task<A extends unknown[] = unknown[], R = unknown>(
    name: string,
    module: URL | string,
    options: TaskOptions & { isolate: 'thread' | 'process' },
  ): Task<A, R>;
  task<A extends unknown[], R, M extends JsonValue = JsonValue>(
    name: string,
    handler: TaskHandler<A, R, M> | URL | string,
    options: TaskOptions = {},
  ): Task<A, Awaited<R>, M> {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError('a task needs a non-empty name');
    if (this.registry.has(name)) throw new DuplicateTaskError(name);
    if (options.timeout !== undefined && !(options.timeout > 0)) throw new ConfigError(`task ${name}: timeout must be > 0 ms`);
    const definition: TaskDefinition = {
      name,
      handler: this.handlerOf(name, handler as TaskHandler<unknown[], unknown> | URL | string, options),
      queue: options.queue ?? 'default',
      priority: checkPriority(`task ${name}: priority`, options.priority),
      timeoutMs: options.timeout,
      retry: createRetryPolicy(options.retry),
      maxRedeliveries: options.maxRedeliveries ?? 5,
      idempotency: checkIdempotency(`task ${name}: idempotency`, options.idempotency),
      flow: checkFlowOptions(name, options),
      aging: checkAging(name, options.aging),
    };
    const { flow } = definition;
    if (
      definition.aging !== undefined &&
      flow !== undefined &&
      (flow.limits.length > 0 || flow.rateLimits.length > 0 || flow.fairness)
    ) {
      // a flow task's priority is part of its group's place in the rotation
      throw new ConfigError(`task ${name}: aging does not combine with concurrency, fairness, rateLimit or throttle`);
    }
    this.registry.set(name, definition);
    return {
      name,
      queue: definition.queue,
      s: (...args: unknown[]) => signature<Awaited<R>>(name, args),
      signature: (args: unknown[], memberOptions?: MemberOptions) => signature<Awaited<R>>(name, args, memberOptions),
      delay: (...args: A) => this.send<Awaited<R>>(definition, args, NO_OPTIONS),
      applyAsync: (args: A, applyOptions?: ApplyOptions) => this.send<Awaited<R>>(definition, args, applyOptions ?? NO_OPTIONS),
      delayMany: async (argsList: readonly A[]) =>
        this.sendMany<Awaited<R>>(list(argsList, 'delayMany').map((args) => ({ definition, args, options: NO_OPTIONS }))),
      applyAsyncMany: async (items: ReadonlyArray<BulkItem<A>>) =>
        this.sendMany<Awaited<R>>(
          list(items, 'applyAsyncMany').map((item) => ({ definition, args: item?.args, options: item?.options ?? NO_OPTIONS })),
        ),
    };
  }

  private handlerOf(
    name: string,
    handler: TaskHandler<unknown[], unknown> | URL | string,
    options: TaskOptions,
  ): TaskHandler<unknown[], unknown> {
    if (options.isolate === undefined) {
      if (typeof handler !== 'function')
        throw new ConfigError(
          `task ${name}: the handler must be a function (or give isolate: 'thread' | 'process' with a module)`,
        );
      if (options.softTimeout !== undefined || options.export !== undefined) {
        throw new ConfigError(`task ${name}: softTimeout and export need isolate: 'thread' | 'process'`);
      }
      return handler;
    }
    if (options.isolate !== 'thread' && options.isolate !== 'process') {
      throw new ConfigError(`task ${name}: isolate must be 'thread' or 'process', got ${JSON.stringify(options.isolate)}`);
    }
    if (typeof handler === 'function')
      throw new ConfigError(`task ${name}: with isolate, give the handler's module (a file URL or path), not a function`);
    const soft = options.softTimeout;
    if (soft !== undefined && !(soft > 0 && (options.timeout === undefined || soft < options.timeout))) {
      throw new ConfigError(`task ${name}: softTimeout must be > 0 ms and below timeout`);
    }
    return isolatedHandler(
      {
        task: name,
        mode: options.isolate,
        module: handler,
        exportName: options.export ?? 'default',
        ...(soft === undefined ? {} : { softTimeoutMs: soft }),
      },
      this.isolation,
    );
  }

  /** Enqueues a task by name (for producers that do not import the handler). */
  sendTask<R = unknown>(name: string, args: unknown[], options: ApplyOptions = {}): Promise<AsyncResult<R>> {
    return this.send<R>(this.definitionOf(name), args, options);
  }

  /** Enqueues tasks by name, any mix of names, in one round trip; see Task.delayMany. */
  async sendTaskMany<R = unknown>(items: readonly SendItem[]): Promise<Array<AsyncResult<R>>> {
    return this.sendMany<R>(
      list(items, 'sendTaskMany').map((item, i) => {
        if (typeof item?.name !== 'string' || item.name.length === 0) {
          throw new ConfigError(`items[${i}]: a task needs a non-empty name`);
        }
        return { definition: this.definitionOf(item.name), args: item.args, options: item.options ?? NO_OPTIONS };
      }),
    );
  }

  /** A handle on a task by id. */
  result<R = unknown>(id: string): AsyncResult<R> {
    return new AsyncResult<R>(id, this.backend);
  }

  /** The task's current state, then every later one, ending after the terminal state. */
  watch(id: string, options?: WatchOptions): AsyncGenerator<TaskInfo> {
    return watchTask(this.backend, id, options);
  }

  /**
   * Every change of every task tagged `tag` (ApplyOptions.tags): what the
   * feed holds after `options.after`, then live changes, until the signal aborts.
   */
  watchTag(tag: string, options?: WatchTagOptions): AsyncGenerator<TagFeedEntry> {
    return watchTag(this.backend, tag, options);
  }

  /** One page of the tag feed after cursor `after` (default 0), at most `limit` tasks (default 100, at most 1000). */
  async tagFeed(tag: string, options: { after?: number; limit?: number } = {}): Promise<TagFeedPage> {
    this.assertOpen();
    const after = options.after ?? 0;
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(after) || after < 0)
      throw new ConfigError(`after must be a cursor (a whole number >= 0), got ${after}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ConfigError(`limit must be 1 to 1000, got ${limit}`);
    return this.backend.readTagFeed(checkTag(tag), after, limit);
  }

  /**
   * Where the endpoint callback of task `taskId` stands (attempts, last
   * status and error, next try); null until the task has ended, or when it has no callback.
   */
  async callbackDelivery(taskId: string): Promise<CallbackDelivery | null> {
    this.assertOpen();
    const info = await this.backend.getInfo(callbackDeliveryId(taskId));
    return info ? deliveryRecord(taskId, info) : null;
  }

  /** A worker that runs this app's tasks; call start() on it. With `beat: true` it runs a beat loop too. */
  worker(options?: WorkerOptions): Worker {
    this.assertOpen();
    const worker = new Worker(
      this.runDependencies(),
      options,
      () => this.close(),
      () => this.beat(),
    );
    this.workers.add(worker);
    return worker;
  }

  /**
   * Runs `task` with `args` at each tick of `spec` ({ cron, tz? } or { every }),
   * once per tick across every beat process (see docs/beat.md). Register
   * schedules before beat() or worker({ beat: true }) starts.
   */
  schedule<A extends unknown[]>(
    name: string,
    spec: ScheduleSpec,
    task: string | { readonly name: string; readonly '~types'?: { readonly args: A } },
    args?: NoInfer<A>,
  ): void {
    this.assertOpen();
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
      throw new ConfigError('a schedule needs a name of 1 to 200 characters');
    }
    if (this.schedules.has(name)) throw new ConfigError(`schedule ${name} is already defined`);
    const taskName = typeof task === 'string' ? task : task?.name;
    const definition = this.registry.get(taskName);
    if (definition === undefined) throw new ConfigError(`schedule ${name}: unknown task ${String(taskName)}`);
    if (args !== undefined && !Array.isArray(args)) throw new ConfigError(`schedule ${name}: args must be an array`);
    const { plan, catchUp } = planSchedule(name, spec, this.cronPlanner);
    // encoded now, so bad arguments fail at startup rather than at the first tick; kept as
    // decoded JSON, so a later change to the caller's objects cannot change what runs
    const encoded = encodeJson(args ?? [], `schedule ${name} args`, this.payloadLimitBytes);
    const stored = JSON.parse(encoded) as unknown[];
    let tags: string[] | undefined;
    try {
      tags = spec.tags === undefined ? undefined : checkTags(spec.tags);
    } catch (error) {
      throw new ConfigError(`schedule ${name}: ${(error as Error).message}`, { cause: error });
    }
    this.schedules.set(name, { name, task: definition.name, args: stored, spec, plan, catchUp, tags });
  }

  /** Names of the schedules. */
  get scheduleNames(): string[] {
    return [...this.schedules.keys()];
  }

  /** Starts a beat loop over this app's schedules; stop() it (app.close() does too). */
  beat(): BeatHandle {
    this.assertOpen();
    const loop = new BeatLoop([...this.schedules.values()], {
      clock: this.clock,
      logger: this.logger,
      enqueueTick: (entry, tick) => this.enqueueTick(entry, tick),
    });
    const handle: BeatHandle = {
      stop: async () => {
        await loop.stop();
        this.beats.delete(handle);
      },
    };
    this.beats.add(handle);
    loop.start();
    return handle;
  }

  /** The operations API: queues, task lists, workers, history, and operator actions (what the CLI and dashboard use). */
  get admin(): Admin {
    this.assertOpen();
    this.adminApi ??= new Admin({ backend: this.backend, clock: this.clock, schedules: () => [...this.schedules.values()] });
    return this.adminApi;
  }

  /** Messages that could not be decoded or named an unknown task, newest first. */
  deadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.backend.listDeadLetters(limit);
  }

  /**
   * Adds hooks that see every enqueue and every attempt of this app (what
   * errand/metrics and errand/tracing use); returns the function that removes them.
   */
  instrument(hooks: Instrumentation): () => void {
    return this.instruments.add(hooks);
  }

  /** How many of this app's workers are running (started, not stopped). */
  get activeWorkers(): number {
    let n = 0;
    for (const worker of this.workers) if (worker.state === 'running') n++;
    return n;
  }

  /** The registered tasks' queues (for metrics that sample queue depth). */
  get queueNames(): string[] {
    return [...new Set([...this.registry.values()].map((d) => d.queue))];
  }

  /** Names of the registered tasks. */
  get taskNames(): string[] {
    return [...this.registry.keys()];
  }

  /**
   * What running a claimed task needs (the registry, limits, logger, clock):
   * for the engine and errand/testing, not a stable API.
   * @internal
   */
  runDependencies(): RunDependencies {
    return {
      backend: this.backend,
      registry: this.registry,
      payloadLimitBytes: this.payloadLimitBytes,
      logger: this.logger,
      clock: this.clock,
      channels: this.channels,
      instruments: this.instruments,
      children: { enqueue: (parentId, index, name, args, options) => this.enqueueChild(parentId, index, name, args, options) },
    };
  }

  /** Stops this app's workers and closes the broker connection it opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.beats].map((b) => b.stop()));
    await Promise.all([...this.workers].map((w) => w.stop()));
    this.isolation.close();
    if (this.ownsBackend) await this.backend.close();
  }

  /** ctx.enqueue: the parent's n-th child, once (its idempotency key), resuming the parent when it ends. */
  private async enqueueChild(
    parentId: string,
    index: number,
    name: string,
    args: unknown[],
    options: ChildOptions,
  ): Promise<AsyncResult<unknown>> {
    this.assertOpen();
    const { countdown, eta, queue, priority, expires, tags } = options;
    const applyOptions: ApplyOptions = { countdown, eta, queue, priority, expires, tags };
    applyOptions.idempotencyKey = childKey(parentId, index);
    // a run that passes other arguments to the same child is a bug in the handler: say so
    applyOptions.idempotency = { onConflict: 'error' };
    const definition = this.definitionOf(name);
    const task = this.newTask(definition, args, applyOptions, this.clock.now(), `${name} args`);
    task.followUp = { id: randomUUID(), name: RESUME_TASK, queue: task.queue, payload: JSON.stringify([parentId]) };
    const outcome = await this.backend.enqueue(task);
    if (outcome.conflict) this.conflict(definition, task, outcome, applyOptions);
    return new AsyncResult(outcome.id, this.backend);
  }

  private definitionOf(name: string): Sendable {
    return this.registry.get(name) ?? { name, queue: 'default' };
  }

  private async send<R>(definition: Sendable, args: unknown[], options: ApplyOptions): Promise<AsyncResult<R>> {
    this.assertOpen();
    const task = this.newTask(definition, args, options, this.clock.now(), 'args');
    const outcome = await this.stored(task, () =>
      options.db === undefined ? this.backend.enqueue(task) : this.enqueueIn(options.db, task),
    );
    if (outcome.conflict) this.conflict(definition, task, outcome, options);
    return new AsyncResult<R>(outcome.id, this.backend);
  }

  /** Stores `task` through `store`, with the enqueue hooks around it (they may add its trace context first). */
  private async stored(task: NewTask, store: () => Promise<EnqueueOutcome>): Promise<EnqueueOutcome> {
    if (this.instruments.empty) return store();
    const end = this.instruments.enqueue(task);
    try {
      const outcome = await store();
      end();
      return outcome;
    } catch (error) {
      end(error);
      throw error;
    }
  }

  private enqueueIn(db: unknown, task: NewTask): Promise<EnqueueOutcome> {
    if (!this.backend.capabilities.transactionalEnqueue) {
      throw new ConfigError(`the ${this.backend.kind} broker cannot enqueue inside your transaction (db): use PostgreSQL`);
    }
    if (typeof db !== 'object' || db === null)
      throw new ConfigError('db must be your database client (a pg Client or PoolClient)');
    return this.backend.enqueue(task, { db });
  }

  private async enqueueTick(entry: ScheduleEntry, tick: number): Promise<EnqueueOutcome> {
    const definition = this.definitionOf(entry.task);
    const options: ApplyOptions = { idempotencyKey: tickKey(entry.name, tick), tags: entry.tags };
    const task = this.newTask(definition, [...entry.args], options, this.clock.now(), 'args');
    const outcome = await this.stored(task, () => this.backend.enqueue(task));
    if (outcome.conflict) this.conflict(definition, task, outcome, options);
    return outcome;
  }

  /** Checks every item, then stores them all with one enqueueMany: nothing is stored when an item is bad. */
  private async sendMany<R>(items: readonly Pending[]): Promise<Array<AsyncResult<R>>> {
    this.assertOpen();
    if (items.length === 0) return [];
    const at = this.clock.now();
    const tasks = new Array<NewTask>(items.length);
    for (let i = 0; i < items.length; i++) {
      const { definition, args, options } = items[i]!;
      try {
        if (!Array.isArray(args)) throw new ConfigError('args must be an array of arguments');
        if (options.db !== undefined) throw new ConfigError('db: enqueue inside a transaction one task at a time (applyAsync)');
        tasks[i] = this.newTask(definition, args, options, at, `items[${i}].args`);
      } catch (error) {
        // SerializationError and PayloadTooLargeError name items[i] in their path already
        throw error instanceof ConfigError ? new ConfigError(`items[${i}]: ${error.message}`, { cause: error }) : error;
      }
    }
    const ends = this.instruments.empty ? [] : tasks.map((task) => this.instruments.enqueue(task));
    let outcomes: EnqueueOutcome[];
    try {
      outcomes = await this.backend.enqueueMany(tasks);
    } catch (error) {
      for (const end of ends) end(error);
      throw error;
    }
    for (const end of ends) end();
    if (outcomes.length !== tasks.length) {
      throw new BrokerError(`the ${this.backend.kind} broker answered ${outcomes.length} outcomes for ${tasks.length} tasks`);
    }
    let refused: unknown;
    const results = outcomes.map((outcome, i) => {
      if (outcome.conflict) {
        const item = items[i]!;
        try {
          this.conflict(item.definition, tasks[i]!, outcome, item.options, i);
        } catch (error) {
          refused ??= error;
        }
      }
      return new AsyncResult<R>(outcome.id, this.backend);
    });
    if (refused !== undefined) throw refused;
    return results;
  }

  /** Checks and encodes one task; throws ConfigError, SerializationError or PayloadTooLargeError. */
  private newTask(
    definition: Sendable,
    args: unknown[],
    options: ApplyOptions,
    enqueuedAt: number,
    what: string,
    id: string = randomUUID(),
  ): NewTask {
    const task: NewTask = {
      id,
      name: definition.name,
      queue: options.queue ?? definition.queue,
      payload: encodeJson(args, what, this.payloadLimitBytes),
      enqueuedAt,
      runAt: dueTime(options, enqueuedAt),
    };
    const priority = options.priority === undefined ? definition.priority : checkPriority('priority', options.priority);
    if (priority !== undefined) task.priority = priority;
    if (definition.flow?.debounce !== undefined) {
      const option = definition.flow.debounce.scope;
      for (const refused of ['countdown', 'eta', 'idempotencyKey'] as const) {
        if (options[refused] !== undefined)
          throw new ConfigError(`task ${definition.name}: ${refused} does not apply to a task with ${option}`);
      }
    }
    if (definition.flow !== undefined) applyFlowControl(definition.flow, task, args, this.backend);
    if (definition.aging !== undefined) {
      if (!this.backend.capabilities.aging) {
        throw new ConfigError(`task ${definition.name}: aging needs a broker with aging; ${this.backend.kind} has none`);
      }
      task.aging = definition.aging;
    }
    if (options.expires !== undefined) task.expiresAt = timeOption('expires', options.expires, enqueuedAt);
    if (options.idempotencyKey !== undefined) task.idempotencyKey = checkKey(options.idempotencyKey);
    if (options.tags !== undefined) task.tags = checkTags(options.tags);
    if (options.callback !== undefined) {
      if (!this.callbacks) throw new ConfigError('callback: endpoint callbacks need an app from createApp');
      task.followUp = this.callbacks.followUp(task.id, options.callback, this.payloadLimitBytes);
    }
    if (options.idempotency !== undefined) checkIdempotency('idempotency', options.idempotency);
    return task;
  }

  /** A known task holds this key with another name or other arguments: warn, or throw. */
  private conflict(definition: Sendable, task: NewTask, outcome: EnqueueOutcome, options: ApplyOptions, index?: number): void {
    const policy = options.idempotency?.onConflict ?? definition.idempotency?.onConflict ?? this.onConflict;
    const key = task.idempotencyKey ?? '';
    if (policy === 'error') throw new IdempotencyConflictError(key, outcome.id, index);
    this.logger.warn(
      { task: task.name, idempotencyKey: key, taskId: outcome.id, ...(index === undefined ? {} : { index }) },
      'idempotency key reused with other arguments: returning the known task, enqueueing nothing',
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError();
  }
}

function list<T>(items: readonly T[], what: string): readonly T[] {
  if (!Array.isArray(items)) throw new ConfigError(`${what} needs an array`);
  return items;
}

function checkIdempotency(what: string, options: IdempotencyOptions | undefined): IdempotencyOptions | undefined {
  const policy = options?.onConflict;
  if (policy !== undefined && policy !== 'warn' && policy !== 'error') {
    throw new ConfigError(`${what}.onConflict must be 'warn' or 'error', got ${String(policy)}`);
  }
  return options;
}

function dueTime(options: ApplyOptions, at: number): number {
  if (options.countdown !== undefined && options.eta !== undefined) {
    throw new ConfigError('give countdown or eta, not both');
  }
  if (options.countdown !== undefined) return timeOption('countdown', options.countdown, at);
  if (options.eta !== undefined)
    return options.eta instanceof Date ? timeOption('eta', options.eta, at) : checkTime('eta', options.eta);
  return at;
}

/** A relative ms count or an absolute Date, as epoch ms. */
function timeOption(name: string, value: number | Date, at: number): number {
  if (value instanceof Date) return checkTime(name, value.getTime());
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${name} must be a number of ms >= 0, got ${String(value)}`);
  }
  return at + value;
}

function checkTime(name: string, ms: number): number {
  if (!Number.isFinite(ms)) throw new ConfigError(`${name} is not a valid time`);
  return ms;
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) {
    throw new ConfigError('idempotencyKey must be a string of 1 to 256 characters');
  }
  return key;
}
