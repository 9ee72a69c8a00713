import type { ClaimedTask, NewTask } from './backend.js';

/** How one attempt ended, for metrics and traces. */
export type AttemptResult =
  /** The task succeeded (SUCCESS). */
  | 'success'
  /** It failed for good (FAILURE). */
  | 'failure'
  /** It failed and will run again (RETRY). */
  | 'retry'
  /** Its message could not be read or named an unknown task: FAILURE and a dead letter. */
  | 'dead_letter'
  /** Revoked while it ran. */
  | 'revoked'
  /** The worker stopped first: back in the queue, the attempt does not count. */
  | 'released'
  /** Its lease was lost: another delivery owns the task now. */
  | 'lost';

export interface AttemptEnd {
  result: AttemptResult;
  /** The error thrown (failure, retry, dead letter), as thrown. */
  error?: unknown;
  /** When the attempt started and how long the handler ran, in ms. */
  startedAt: number;
  durationMs: number;
}

/** What an enqueue hook may do: give the trace context to store (NewTask.trace), and hear how the enqueue went. */
export interface EnqueueScope {
  trace?: string;
  end(error?: unknown): void;
}

/**
 * Hooks into the engine, for metrics, traces and logs (errand/metrics and
 * errand/tracing are built on it): app.instrument(hooks). A hook that
 * throws is ignored; hooks must not block.
 */
export interface Instrumentation {
  /** Before a task is stored, in the caller's async context. */
  enqueue?(task: Readonly<NewTask>): EnqueueScope | undefined;
  /** Runs one attempt: call `run` once (e.g. inside a span's context) and return what it returns. */
  attempt?(task: Readonly<ClaimedTask>, run: () => Promise<AttemptEnd>): Promise<AttemptEnd>;
  /** After an attempt's outcome is recorded. */
  attempted?(task: Readonly<ClaimedTask>, end: AttemptEnd): void;
}

/** The app's hooks, called in order; none can break the engine. */
export class Instruments {
  private readonly list: Instrumentation[] = [];

  get empty(): boolean {
    return this.list.length === 0;
  }

  add(hooks: Instrumentation): () => void {
    this.list.push(hooks);
    return () => {
      const i = this.list.indexOf(hooks);
      if (i >= 0) this.list.splice(i, 1);
    };
  }

  /** Calls every enqueue hook; the first trace context given is stored. Returns the end callback. */
  enqueue(task: NewTask): (error?: unknown) => void {
    const scopes: EnqueueScope[] = [];
    for (const hooks of this.list) {
      const scope = quietly(() => hooks.enqueue?.(task));
      if (!scope) continue;
      scopes.push(scope);
      if (task.trace === undefined && typeof scope.trace === 'string' && scope.trace.length <= 1024) task.trace = scope.trace;
    }
    return (error) => {
      for (const scope of scopes) quietly(() => scope.end(error));
    };
  }

  /** `run` wrapped by every attempt hook, outermost first. */
  attempt(task: ClaimedTask, run: () => Promise<AttemptEnd>): Promise<AttemptEnd> {
    let wrapped = run;
    for (const hooks of [...this.list].reverse()) {
      const around = hooks.attempt;
      if (!around) continue;
      const inner = wrapped;
      wrapped = (): Promise<AttemptEnd> => {
        let called = false;
        const once = (): Promise<AttemptEnd> => {
          called = true;
          return inner();
        };
        try {
          return around.call(hooks, task, once).catch((error: unknown) => (called ? Promise.reject(error) : inner()));
        } catch {
          return called ? Promise.reject(new Error('an attempt hook failed')) : inner();
        }
      };
    }
    return wrapped();
  }

  attempted(task: ClaimedTask, end: AttemptEnd): void {
    for (const hooks of this.list) quietly(() => hooks.attempted?.(task, end));
  }
}

function quietly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
