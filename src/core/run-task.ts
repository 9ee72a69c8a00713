import type { Backend, ClaimedTask } from './backend.js';
import { systemClock, type Clock } from './clock.js';
import { RetryRequest, type GroupSender, type TaskContext } from './context.js';
import { ConfigError, DecodeError, MaxRetriesExceededError, TimeoutError, UnknownTaskError, WorkerLostError } from './errors.js';
import { decodeJson, encodeJson } from './json.js';
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
export async function runTask(deps: RunDependencies, running: RunningTask): Promise<void> {
  const { backend, logger } = deps;
  const task = running.claimed;
  const decoded = decode(deps.registry, task);
  if (decoded instanceof Error) {
    running.markSettled();
    logger.error({ taskId: task.id, task: task.name, err: decoded.message }, 'dead-lettered an undecodable task');
    await backend.deadLetter(task, describeError(decoded));
    return;
  }
  const { definition, args } = decoded;
  const redeliveries = task.attempt - task.retries - 1;
  if (redeliveries > definition.maxRedeliveries) {
    running.markSettled();
    const error = new WorkerLostError(`task was redelivered ${redeliveries} times after its worker stopped responding`);
    await backend.fail(task, describeError(error));
    return;
  }
  const outcome = await execute(deps, definition, args, running);
  running.markSettled();
  await record(deps, definition, task, outcome);
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

async function record(deps: RunDependencies, definition: TaskDefinition, task: ClaimedTask, outcome: Outcome): Promise<void> {
  const { backend, logger } = deps;
  switch (outcome.kind) {
    case 'success': {
      let json: string;
      try {
        json = encodeJson(outcome.value ?? null, 'result', deps.payloadLimitBytes);
      } catch (error) {
        await backend.fail(task, describeError(error));
        return;
      }
      await backend.complete(task, json);
      return;
    }
    case 'error': {
      if (definition.retry.matches(outcome.error) && task.retries < definition.retry.max) {
        const delay = definition.retry.delayMs(task.retries + 1);
        await retry(deps, task, outcome.error, delay);
      } else {
        logger.warn({ taskId: task.id, task: task.name, err: describeError(outcome.error) }, 'task failed');
        await backend.fail(task, describeError(outcome.error));
      }
      return;
    }
    case 'retry': {
      if (task.retries < definition.retry.max) {
        const delay = outcome.countdown ?? definition.retry.delayMs(task.retries + 1);
        await retry(deps, task, outcome.error, delay);
      } else {
        const error = outcome.error ?? new MaxRetriesExceededError(`task ${task.name} used all ${definition.retry.max} retries`);
        await backend.fail(task, describeError(error));
      }
      return;
    }
    case 'shutdown':
      await backend.release(task);
      return;
    case 'revoked':
    case 'lost':
      // Revoked: the state is already REVOKED. Lost: another delivery owns the task now.
      return;
  }
}

async function retry(deps: RunDependencies, task: ClaimedTask, error: unknown, delayMs: number): Promise<void> {
  const info = describeError(error ?? new Error('retry requested'));
  deps.logger.info({ taskId: task.id, task: task.name, delayMs, err: info }, 'task will retry');
  await deps.backend.retryLater(task, info, (deps.clock ?? systemClock).now() + Math.max(0, delayMs));
}
