import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { TaskContext } from '../context.js';
import { ConfigError } from '../errors.js';
import type { TaskHandler } from '../task.js';
import { RunnerPool, type PooledRunner } from './runner-pool.js';
import type { IsolateMode } from './runner.js';

export interface IsolateSpec {
  task: string;
  mode: IsolateMode;
  /** The handler's module: a file URL, or a path (relative to the working directory). */
  module: URL | string;
  /** Its export (default 'default'). */
  exportName: string;
  /** When the handler's signal aborts, before the hard limit (the task's timeout) kills it. */
  softTimeoutMs?: number;
}

/** The handlers' pools of one app, closed with it. */
export class IsolationPools {
  private readonly pools = new Set<RunnerPool>();

  pool(mode: IsolateMode, module: string, exportName: string): RunnerPool {
    const pool = new RunnerPool(mode, { module, exportName });
    this.pools.add(pool);
    return pool;
  }

  close(): void {
    for (const pool of this.pools) pool.close();
  }
}

let jobs = 0;

/**
 * A TaskHandler that runs the handler in a worker thread or a child process:
 * the engine's time limit, a revoke, a lost lease or shutdown abort ctx.signal,
 * which kills the runner (a CPU-bound loop ends too); the attempt then ends as
 * the engine decides (TimeoutError at the limit, retried per the task's policy).
 */
export function isolatedHandler(spec: IsolateSpec, pools: IsolationPools): TaskHandler<unknown[], unknown> {
  const pool = pools.pool(spec.mode, moduleUrl(spec), spec.exportName);
  return async (ctx: TaskContext, ...args: unknown[]) => {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const runner = await pool.acquire();
    return runJob(runner, ctx, args, spec).finally(() => pool.release(runner));
  };
}

function runJob(runner: PooledRunner, ctx: TaskContext, args: unknown[], spec: IsolateSpec): Promise<unknown> {
  const job = ++jobs;
  return new Promise((resolvePromise, reject) => {
    const onAbort = (): void => {
      runner.kill();
      reject(ctx.signal.reason);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const soft =
      spec.softTimeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              runner.send({
                type: 'abort',
                job,
                message: `task ${spec.task} passed its soft time limit of ${spec.softTimeoutMs} ms`,
              }),
            spec.softTimeoutMs,
          );
    const settle = (): void => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (soft !== undefined) clearTimeout(soft);
    };
    runner.start(
      {
        progress: (m) => void ctx.progress(m.current, m.total, m.meta).catch(() => {}),
        done: (value) => {
          settle();
          resolvePromise(value);
        },
        failed: (error) => {
          settle();
          reject(error);
        },
        died: (reason) => {
          settle();
          reject(new Error(`the isolated handler of ${spec.task} died: ${reason}`));
        },
      },
      { type: 'run', job, task: { id: ctx.id, name: ctx.name, attempt: ctx.attempt, retries: ctx.retries }, args },
    );
  });
}

function moduleUrl(spec: IsolateSpec): string {
  const { module } = spec;
  if (module instanceof URL) {
    if (module.protocol !== 'file:')
      throw new ConfigError(`task ${spec.task}: isolate needs a file: module URL, got ${module.href}`);
    return module.href;
  }
  if (typeof module !== 'string' || module.length === 0) {
    throw new ConfigError(`task ${spec.task}: isolate needs the handler's module (a file URL or path) in place of the handler`);
  }
  if (module.startsWith('file:')) return new URL(module).href;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}
