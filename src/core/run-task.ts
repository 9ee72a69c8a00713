import type { Backend, ClaimedTask } from './backend.js';
import { systemClock, type Clock } from './clock.js';
import { childApi, suspendForChildren } from './child-tasks.js';
import {
  RateLimitRequest,
  RetryRequest,
  WaitRequest,
  type ChildEnqueuer,
  type GroupSender,
  type TaskContext,
} from './context.js';
import { ConfigError, DecodeError, MaxRetriesExceededError, TimeoutError, UnknownTaskError, WorkerLostError } from './errors.js';
import { decodeJson, encodeJson } from './json.js';
import type { AttemptEnd, AttemptResult, Instruments } from './instrumentation.js';
import type { Logger } from './logger.js';
import { describeError, type AbortCause, type Outcome } from './outcome.js';
import { ProgressReporter } from './progress-reporter.js';
import type { TaskDefinition } from './task.js';
import type { JsonValue } from './types.js';

export interface RunDependencies {
  backend: Backend;
  registry: ReadonlyMap<string, TaskDefinition>;
  payloadLimitBytes: number;
  logger: Logger;
  /** Time limits and retry due times (default: the system clock). */
  clock?: Clock;
  /** Where ctx.groupSend sends (createApp's `channels`). */
  channels?: GroupSender;
  /** What ctx.enqueue enqueues children with (the app). */
  children?: ChildEnqueuer;
  /** app.instrument hooks (metrics, traces). */
  instruments?: Instruments;
}

/** One attempt in a worker: its delivery and the means to abort it. */
export class RunningTask {
  // Made on first use: most no-op tasks never look at their signal, and
  // creating an AbortController is a measurable share of a short task's cost.
  private controller?: AbortController;
  private cause?: AbortCause;
  private reason?: Error;
  private resolveAborted!: (cause: AbortCause) => void;
  private resolveSettled!: () => void;
  /** Resolves with the cause when the worker aborts the attempt. */
  readonly aborted = new Promise<AbortCause>((resolve) => (this.resolveAborted = resolve));
  /** Resolves when the handler is done with (or no longer awaited); recording the outcome may still be under way. */
  readonly settled = new Promise<void>((resolve) => (this.resolveSettled = resolve));

  /** When the worker launched it (for the worker's heartbeat). */
  readonly launchedAt = Date.now();

  constructor(readonly claimed: ClaimedTask) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.reason && !this.controller.signal.aborted) this.controller.abort(this.reason);
    return this.controller.signal;
  }

  get abortCause(): AbortCause | undefined {
    return this.cause;
  }

  get abortReason(): Error | undefined {
    return this.reason;
  }

  markSettled(): void {
    this.resolveSettled();
  }

  abort(cause: AbortCause, reason: Error): void {
    if (this.cause) return;
    this.cause = cause;
    this.reason = reason;
    this.controller?.abort(reason);
    this.resolveAborted(cause);
  }
}

/** Runs one delivery: decode → guard redeliveries → execute with limits → record the outcome. */
export async function runTask(
  deps: RunDependencies,
  running: RunningTask,
  /** Hears how the attempt ended, once recorded (the worker's reports). */
  onEnd?: (task: ClaimedTask, end: AttemptEnd) => void,
): Promise<AttemptEnd> {
  const instruments = deps.instruments;
  let end: AttemptEnd;
  if (!instruments || instruments.empty) end = await attempt(deps, running);
  else {
    end = await instruments.attempt(running.claimed, () => attempt(deps, running));
    instruments.attempted(running.claimed, end);
  }
  onEnd?.(running.claimed, end);
  return end;
}

async function attempt(deps: RunDependencies, running: RunningTask): Promise<AttemptEnd> {
  const { backend, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const startedAt = clock.now();
  const task = running.claimed;
  const decoded = decode(deps.registry, task);
  if (decoded instanceof Error) {
    running.markSettled();
    logger.error({ taskId: task.id, task: task.name, attempt: task.attempt, err: decoded }, 'dead-lettered an undecodable task');
    await backend.deadLetter(task, describeError(decoded));
    return { result: 'dead_letter', error: decoded, startedAt, durationMs: 0 };
  }
  const { definition, args } = decoded;
  const redeliveries = task.attempt - task.retries - 1;
  if (redeliveries > definition.maxRedeliveries) {
    running.markSettled();
    const error = new WorkerLostError(`task was redelivered ${redeliveries} times after its worker stopped responding`);
    logger.warn({ taskId: task.id, task: task.name, attempt: task.attempt, err: error }, 'task failed');
    await backend.fail(task, describeError(error));
    return { result: 'failure', error, startedAt, durationMs: 0 };
  }
  const outcome = await execute(deps, definition, args, running);
  running.markSettled();
  const durationMs = clock.now() - startedAt;
  const result = await record(deps, definition, task, outcome, durationMs);
  const error =
    (outcome.kind === 'error' && !(outcome.error instanceof RateLimitRequest) && !(outcome.error instanceof WaitRequest)) ||
    outcome.kind === 'retry'
      ? outcome.error
      : undefined;
  return error === undefined ? { result, startedAt, durationMs } : { result, error, startedAt, durationMs };
}

function decode(
  registry: ReadonlyMap<string, TaskDefinition>,
  task: ClaimedTask,
): { definition: TaskDefinition; args: unknown[] } | Error {
  // the adapter could not read the stored record itself
  if (task.undecodable !== undefined) return new DecodeError(task.undecodable);
  const definition = registry.get(task.name);
  if (!definition) return new UnknownTaskError(task.name);
  let args: unknown;
  try {
    args = decodeJson(task.payload, `the arguments of task ${task.id}`);
  } catch (error) {
    return error as DecodeError;
  }
  if (!Array.isArray(args)) return new DecodeError(`the arguments of task ${task.id} are not an array`);
  return { definition, args };
}

async function execute(
  deps: RunDependencies,
  definition: TaskDefinition,
  args: unknown[],
  running: RunningTask,
): Promise<Outcome> {
  const task = running.claimed;
  const reporter = new ProgressReporter(deps.backend, task);
  const children = childApi(deps.backend, deps.children, task, reporter);
  const ctx: TaskContext = {
    id: task.id,
    name: task.name,
    attempt: task.attempt,
    retries: task.retries,
    get signal() {
      return running.signal;
    },
    retry(options = {}) {
      throw new RetryRequest(options);
    },
    rateLimited(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`ctx.rateLimited takes a time in ms >= 0, got ${String(ms)}`);
      const { backend } = deps;
      if (!backend.capabilities.rateLimits || backend.holdRateLimit === undefined) {
        throw new ConfigError(`ctx.rateLimited needs a broker with rate limits; ${backend.kind} has none`);
      }
      throw new RateLimitRequest(ms);
    },
    async progress(current: number, total?: number, meta?: JsonValue) {
      if (!Number.isFinite(current) || (total !== undefined && !Number.isFinite(total))) {
        throw new TypeError('progress current and total must be finite numbers');
      }
      if (meta !== undefined) encodeJson(meta, 'progress meta', deps.payloadLimitBytes);
      const progress = total === undefined ? { current } : { current, total };
      await reporter.report(meta === undefined ? progress : { ...progress, meta });
    },
    async groupSend(group, message) {
      if (!deps.channels) {
        throw new ConfigError('ctx.groupSend needs a channel layer: createApp({ channels: createRedisChannelLayer(...) })');
      }
      await deps.channels.groupSend(group, message);
    },
    enqueue: children.enqueue,
    waitFor: children.waitFor as TaskContext['waitFor'],
  };
  const timer =
    definition.timeoutMs !== undefined
      ? (deps.clock ?? systemClock).setTimer(() => {
          running.abort('timeout', new TimeoutError(`task ${task.name} exceeded its time limit of ${definition.timeoutMs} ms`));
        }, definition.timeoutMs)
      : undefined;
  try {
    const work = Promise.resolve().then(() => definition.handler(ctx, ...args));
    // A handler that ignores its signal may settle later; nobody waits for it.
    work.catch(() => {});
    const settled = await Promise.race([
      work.then(
        (value): Outcome => ({ kind: 'success', value }),
        (error: unknown): Outcome =>
          error instanceof RetryRequest
            ? { kind: 'retry', countdown: error.options.countdown, error: error.options.error }
            : { kind: 'error', error },
      ),
      running.aborted.then((): Outcome => ({ kind: 'lost' })),
    ]);
    const cause = running.abortCause;
    if (settled.kind === 'success' || cause === undefined) return settled;
    return outcomeOfAbort(cause, running.abortReason);
  } finally {
    if (timer !== undefined) (deps.clock ?? systemClock).clearTimer(timer);
    await reporter.close();
  }
}

function outcomeOfAbort(cause: AbortCause, reason: unknown): Outcome {
  switch (cause) {
    case 'timeout':
      return { kind: 'error', error: reason };
    case 'revoked':
      return { kind: 'revoked' };
    case 'lost':
      return { kind: 'lost' };
    case 'shutdown':
      return { kind: 'shutdown' };
  }
}

/** Records the outcome; says how the attempt ended. Logs carry the task's id, name, attempt and duration. */
async function record(
  deps: RunDependencies,
  definition: TaskDefinition,
  task: ClaimedTask,
  outcome: Outcome,
  durationMs: number,
): Promise<AttemptResult> {
  const { backend, logger } = deps;
  const fields = { taskId: task.id, task: task.name, attempt: task.attempt, durationMs };
  switch (outcome.kind) {
    case 'success': {
      let json: string;
      try {
        json = encodeJson(outcome.value ?? null, 'result', deps.payloadLimitBytes);
      } catch (error) {
        logger.warn({ ...fields, err: error }, 'task failed: its result cannot be stored');
        await backend.fail(task, describeError(error));
        return 'failure';
      }
      await backend.complete(task, json);
      logger.debug(fields, 'task succeeded');
      return 'success';
    }
    case 'error': {
      if (outcome.error instanceof WaitRequest) {
        logger.debug({ ...fields, children: outcome.error.childIds.length }, 'task waits for its children');
        await suspendForChildren(backend, task, outcome.error, (deps.clock ?? systemClock).now());
        return 'released';
      }
      if (outcome.error instanceof RateLimitRequest && backend.holdRateLimit !== undefined) {
        const until = (deps.clock ?? systemClock).now() + Math.ceil(outcome.error.ms);
        logger.info({ ...fields, holdMs: outcome.error.ms }, 'task rate-limited: its keys are held');
        await backend.holdRateLimit(task, until);
        return 'released';
      }
      if (definition.retry.matches(outcome.error) && task.retries < definition.retry.max) {
        const delay = definition.retry.delayMs(task.retries + 1);
        await retry(deps, task, outcome.error, delay, fields);
        return 'retry';
      }
      logger.warn({ ...fields, err: asError(outcome.error) }, 'task failed');
      await backend.fail(task, describeError(outcome.error));
      return 'failure';
    }
    case 'retry': {
      if (task.retries < definition.retry.max) {
        const delay = outcome.countdown ?? definition.retry.delayMs(task.retries + 1);
        await retry(deps, task, outcome.error, delay, fields);
        return 'retry';
      }
      const error = outcome.error ?? new MaxRetriesExceededError(`task ${task.name} used all ${definition.retry.max} retries`);
      logger.warn({ ...fields, err: asError(error) }, 'task failed');
      await backend.fail(task, describeError(error));
      return 'failure';
    }
    case 'shutdown':
      await backend.release(task);
      return 'released';
    case 'revoked':
      // the state is already REVOKED
      return 'revoked';
    case 'lost':
      // another delivery owns the task now
      return 'lost';
  }
}

async function retry(
  deps: RunDependencies,
  task: ClaimedTask,
  error: unknown,
  delayMs: number,
  fields: Record<string, unknown>,
): Promise<void> {
  const info = describeError(error ?? new Error('retry requested'));
  deps.logger.info({ ...fields, delayMs, err: asError(error ?? new Error('retry requested')) }, 'task will retry');
  await deps.backend.retryLater(task, info, (deps.clock ?? systemClock).now() + Math.max(0, delayMs));
}

/**
 * What loggers serialise well: an Error as it is (pino's `err` serializer
 * logs its class, message and stack), anything else thrown wrapped in one.
 */
function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  let shown: string;
  try {
    shown = JSON.stringify(error) ?? String(error);
  } catch {
    shown = String(error);
  }
  return new Error(
    `the task threw ${typeof error === 'object' ? 'an object' : `a ${typeof error}`}, not an Error: ${shown.slice(0, 200)}`,
  );
}
