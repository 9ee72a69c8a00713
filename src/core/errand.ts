import { randomUUID } from 'node:crypto';
import { AsyncResult } from './async-result.js';
import type { Backend, NewTask } from './backend.js';
import { now } from './clock.js';
import { ClosedError, ConfigError, DuplicateTaskError } from './errors.js';
import { encodeJson } from './json.js';
import { silentLogger, type Logger } from './logger.js';
import { createRetryPolicy } from './retry-policy.js';
import type { ApplyOptions, Task, TaskDefinition, TaskHandler, TaskOptions } from './task.js';
import type { DeadLetter, TaskInfo } from './types.js';
import { watchTask, type WatchOptions } from './watch.js';
import { Worker, type WorkerOptions } from './worker.js';

export interface ErrandOptions {
  /** Largest encoded arguments or result, in bytes (default 1 MiB). */
  payloadLimitBytes?: number;
  logger?: Logger;
  /** Close the backend on close() (default true; false when the caller owns it). */
  ownsBackend?: boolean;
}

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
  private readonly payloadLimitBytes: number;
  private readonly logger: Logger;
  private readonly ownsBackend: boolean;
  private closed = false;

  constructor(backend: Backend, options: ErrandOptions = {}) {
    this.backend = backend;
    this.payloadLimitBytes = options.payloadLimitBytes ?? DEFAULT_PAYLOAD_LIMIT;
    this.logger = options.logger ?? silentLogger;
    this.ownsBackend = options.ownsBackend ?? true;
  }

  /** Registers a task; argument and result types flow from `handler` to delay/applyAsync. */
  task<A extends unknown[], R>(name: string, handler: TaskHandler<A, R>, options: TaskOptions = {}): Task<A, Awaited<R>> {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError('a task needs a non-empty name');
    if (this.registry.has(name)) throw new DuplicateTaskError(name);
    if (options.timeout !== undefined && !(options.timeout > 0)) throw new ConfigError(`task ${name}: timeout must be > 0 ms`);
    const definition: TaskDefinition = {
      name,
      handler: handler as TaskHandler<unknown[], unknown>,
      queue: options.queue ?? 'default',
      timeoutMs: options.timeout,
      retry: createRetryPolicy(options.retry),
      maxRedeliveries: options.maxRedeliveries ?? 5,
    };
    this.registry.set(name, definition);
    return {
      name,
      delay: (...args: A) => this.send<Awaited<R>>(definition, args, {}),
      applyAsync: (args: A, applyOptions?: ApplyOptions) => this.send<Awaited<R>>(definition, args, applyOptions ?? {}),
    };
  }

  /** Enqueues a task by name (for producers that do not import the handler). */
  sendTask<R = unknown>(name: string, args: unknown[], options: ApplyOptions = {}): Promise<AsyncResult<R>> {
    const definition = this.registry.get(name) ?? { name, queue: 'default' };
    return this.send<R>(definition, args, options);
  }

  /** A handle on a task by id. */
  result<R = unknown>(id: string): AsyncResult<R> {
    return new AsyncResult<R>(id, this.backend);
  }

  /** The task's current state, then every later one, ending after the terminal state. */
  watch(id: string, options?: WatchOptions): AsyncGenerator<TaskInfo> {
    return watchTask(this.backend, id, options);
  }

  /** A worker that runs this app's tasks; call start() on it. */
  worker(options?: WorkerOptions): Worker {
    this.assertOpen();
    const worker = new Worker(
      { backend: this.backend, registry: this.registry, payloadLimitBytes: this.payloadLimitBytes, logger: this.logger },
      options,
      () => this.close(),
    );
    this.workers.add(worker);
    return worker;
  }

  /** Messages that could not be decoded or named an unknown task, newest first. */
  deadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.backend.listDeadLetters(limit);
  }

  /** Names of the registered tasks. */
  get taskNames(): string[] {
    return [...this.registry.keys()];
  }

  /** Stops this app's workers and closes the broker connection it opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.workers].map((w) => w.stop()));
    if (this.ownsBackend) await this.backend.close();
  }

  private async send<R>(
    definition: Pick<TaskDefinition, 'name' | 'queue'>,
    args: unknown[],
    options: ApplyOptions,
  ): Promise<AsyncResult<R>> {
    this.assertOpen();
    const enqueuedAt = now();
    const task: NewTask = {
      id: randomUUID(),
      name: definition.name,
      queue: options.queue ?? definition.queue,
      payload: encodeJson(args, 'args', this.payloadLimitBytes),
      enqueuedAt,
      runAt: dueTime(options, enqueuedAt),
    };
    if (options.expires !== undefined) task.expiresAt = timeOption('expires', options.expires, enqueuedAt);
    if (options.idempotencyKey !== undefined) task.idempotencyKey = checkKey(options.idempotencyKey);
    const outcome = await this.backend.enqueue(task);
    return new AsyncResult<R>(outcome.id, this.backend);
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError();
  }
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
