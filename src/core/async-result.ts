import type { Backend } from './backend.js';
import { TaskFailedError, TaskNotFoundError, TaskRevokedError, TimeoutError } from './errors.js';
import type { TaskInfo } from './types.js';
import { watchTask, type WatchOptions } from './watch.js';

export interface GetOptions {
  /** Give up after this many ms with a TimeoutError (default: wait for ever). */
  timeout?: number;
  signal?: AbortSignal;
}

/** A handle on one task, by id: read its state, wait for its result, revoke it. */
export class AsyncResult<R = unknown> {
  constructor(
    readonly id: string,
    private readonly backend: Backend,
  ) {}

  /** The status record, or null when the id is unknown or its result expired. */
  info(): Promise<TaskInfo | null> {
    return this.backend.getInfo(this.id);
  }

  /** The current state, or null when unknown. */
  async state(): Promise<TaskInfo['state'] | null> {
    return (await this.info())?.state ?? null;
  }

  /**
   * Waits for the task to finish and returns its result. Throws
   * TaskFailedError (FAILURE), TaskRevokedError (REVOKED), TimeoutError, or
   * TaskNotFoundError (unknown id).
   */
  async get(options: GetOptions = {}): Promise<R> {
    const timeoutSignal = options.timeout !== undefined ? AbortSignal.timeout(options.timeout) : undefined;
    const signals = [timeoutSignal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    for await (const info of watchTask(this.backend, this.id, { signal })) {
      if (info.state === 'SUCCESS') return info.result as R;
      if (info.state === 'FAILURE') throw new TaskFailedError(this.id, info.error ?? { type: 'Error', message: 'unknown error' });
      if (info.state === 'REVOKED') throw new TaskRevokedError(this.id);
    }
    if (timeoutSignal?.aborted) throw new TimeoutError(`task ${this.id} did not finish within ${options.timeout} ms`);
    throw options.signal?.reason ?? new TimeoutError(`waiting for task ${this.id} was aborted`);
  }

  /** Yields the current state, then every later one, ending after the terminal one. */
  watch(options?: WatchOptions): AsyncGenerator<TaskInfo> {
    return watchTask(this.backend, this.id, options);
  }

  /** Revokes the task; returns its status record, or throws TaskNotFoundError. */
  async revoke(): Promise<TaskInfo> {
    const info = await this.backend.revoke(this.id);
    if (!info) throw new TaskNotFoundError(this.id);
    return info;
  }
}
