import { AsyncResult } from './async-result.js';
import type { Backend, ClaimedTask } from './backend.js';
import { WaitRequest, type ChildEnqueuer, type ChildOptions, type ChildTask, type WaitForOptions } from './context.js';
import { ConfigError, TaskFailedError, TaskNotFoundError, TaskRevokedError } from './errors.js';
import type { ProgressReporter } from './progress-reporter.js';
import { isTerminal } from './states.js';

/** How long a waiting task stays put when no child's end wakes it (WaitForOptions.recheckMs). */
const RECHECK_MS = 60_000;

/** The follow-up task that resumes a waiting parent when a child ends (registered by the app). */
export const RESUME_TASK = 'errand.resume';

/** The idempotency key of the n-th child a task enqueues: the same on every run of the task. */
export function childKey(parentId: string, index: number): string {
  return `errand.child:${parentId}:${index}`;
}

/** ctx.enqueue and ctx.waitFor of one attempt. */
export function childApi(
  backend: Backend,
  enqueuer: ChildEnqueuer | undefined,
  task: ClaimedTask,
  reporter: ProgressReporter,
): {
  enqueue<A extends unknown[], R>(child: ChildTask<A, R>, args: A, options?: ChildOptions): Promise<AsyncResult<R>>;
  waitFor(handles: AsyncResult<unknown> | ReadonlyArray<AsyncResult<unknown>>, options?: WaitForOptions): Promise<never>;
} {
  let enqueued = 0;
  return {
    async enqueue<A extends unknown[], R>(child: ChildTask<A, R>, args: A, options: ChildOptions = {}) {
      if (!enqueuer) throw new ConfigError('ctx.enqueue needs an app from createApp');
      if (typeof child?.name !== 'string') throw new ConfigError('ctx.enqueue takes a task (what app.task returns)');
      if (!Array.isArray(args)) throw new ConfigError(`ctx.enqueue(${child.name}): args must be an array`);
      // counted before the await: concurrent calls get their places in call order
      const index = enqueued++;
      return (await enqueuer.enqueue(task.id, index, child.name, args, options)) as AsyncResult<R>;
    },
    async waitFor(handles, options = {}) {
      if (backend.wake === undefined || !backend.capabilities.wake) {
        throw new ConfigError(`ctx.waitFor needs a broker with wake; ${backend.kind} has none`);
      }
      const list = Array.isArray(handles) ? (handles as ReadonlyArray<AsyncResult<unknown>>) : [handles as AsyncResult<unknown>];
      if (!list.every((h) => h instanceof AsyncResult)) throw new ConfigError('ctx.waitFor takes what ctx.enqueue returned');
      const recheckMs = options.recheckMs ?? RECHECK_MS;
      if (!Number.isFinite(recheckMs) || recheckMs < 1) throw new ConfigError(`ctx.waitFor: recheckMs must be >= 1 ms`);
      const infos = await Promise.all(list.map((h) => backend.getInfo(h.id)));
      let done = 0;
      for (const [i, info] of infos.entries()) {
        const id = list[i]!.id;
        if (info === null) throw new TaskNotFoundError(id);
        if (info.state === 'FAILURE') throw new TaskFailedError(id, info.error ?? { type: 'Error', message: 'unknown error' });
        if (info.state === 'REVOKED') throw new TaskRevokedError(id);
        if (info.state === 'SUCCESS') done++;
      }
      if (done === list.length) {
        const results = infos.map((info) => info!.result ?? null);
        return (Array.isArray(handles) ? results : results[0]) as never;
      }
      if (options.progress !== false) await reporter.report({ current: done, total: list.length });
      throw new WaitRequest(
        list.map((h) => h.id),
        recheckMs,
      );
    },
  };
}

/**
 * Ends an attempt that waits for children: back to PENDING until `now` +
 * recheckMs, holding nothing; each child's resume follow-up wakes it. A
 * child that ended after ctx.waitFor looked and before the task was put
 * back found it still running and could not wake it: looked at once more here.
 */
export async function suspendForChildren(backend: Backend, task: ClaimedTask, request: WaitRequest, now: number): Promise<void> {
  if (!(await backend.release(task, now + request.recheckMs))) return;
  const infos = await Promise.all(request.childIds.map((id) => backend.getInfo(id)));
  if (infos.every((info) => info === null || isTerminal(info.state))) await backend.wake!(task.id);
}
