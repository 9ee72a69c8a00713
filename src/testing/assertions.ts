import type { EnqueuedTask, FinishedTask, TestApp } from './test-app.js';

/**
 * Assertions for any test runner: each throws an AssertionError (a plain
 * Error, name 'AssertionError') whose message says what was expected and
 * lists what happened instead; on success each returns what matched.
 * Arguments and results compare as JSON data (object key order ignored).
 */

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export interface EnqueuedMatch {
  /** The arguments, as JSON data (a Date compares as its ISO string). */
  args?: unknown[];
  queue?: string;
  /** Exactly this many matching enqueues (default: at least one). */
  times?: number;
}

/** Asserts that task `name` was enqueued (with these args, this often); returns the matching enqueues. */
export function expectEnqueued(testApp: TestApp, name: string, match: EnqueuedMatch = {}): EnqueuedTask[] {
  const all = testApp.enqueued();
  const found = all.filter(
    (c) =>
      c.name === name &&
      (match.args === undefined || jsonEqual(c.args, match.args)) &&
      (match.queue === undefined || c.queue === match.queue),
  );
  const ok = match.times === undefined ? found.length > 0 : found.length === match.times;
  if (!ok) {
    const what = [
      `task "${name}"`,
      match.args === undefined ? '' : ` with args ${show(match.args)}`,
      match.queue === undefined ? '' : ` on queue "${match.queue}"`,
    ].join('');
    const times = match.times === undefined ? 'at least once' : `${match.times} time${match.times === 1 ? '' : 's'}`;
    throw new AssertionError(`expected ${what} to be enqueued ${times}, found ${found.length}; ${listCalls(all)}`);
  }
  return found;
}

/** Asserts that task `name` (any task, without a name) was never enqueued. */
export function expectNotEnqueued(testApp: TestApp, name?: string): void {
  const found = testApp.enqueued(name);
  if (found.length > 0) {
    throw new AssertionError(
      `expected ${name === undefined ? 'no task' : `task "${name}" not`} to be enqueued; ${listCalls(found)}`,
    );
  }
}

export interface ResultMatch {
  args?: unknown[];
  /** The result, as JSON data. */
  result?: unknown;
}

/** Asserts that a run of task `name` (with these args) ended SUCCESS (with this result); returns it. */
export function expectSucceeded(testApp: TestApp, name: string, match: ResultMatch = {}): FinishedTask {
  const runs = finishedOf(testApp, name, match.args);
  const hit = runs.find((r) => r.state === 'SUCCESS' && ('result' in match ? jsonEqual(r.result, match.result) : true));
  if (!hit) {
    const what = `task "${name}"${match.args === undefined ? '' : ` with args ${show(match.args)}`}`;
    const result = 'result' in match ? ` with result ${show(match.result)}` : '';
    throw new AssertionError(`expected ${what} to succeed${result}; ${listFinished(testApp.results)}`);
  }
  return hit;
}

export interface FailureMatch {
  args?: unknown[];
  /** The error's class name, as stored ('TypeError', 'TimeoutError'). */
  errorType?: string;
  /** A substring of, or a pattern for, the error message. */
  message?: string | RegExp;
}

/** Asserts that a run of task `name` (with these args) ended FAILURE (with this error); returns it. */
export function expectFailed(testApp: TestApp, name: string, match: FailureMatch = {}): FinishedTask {
  const runs = finishedOf(testApp, name, match.args);
  const hit = runs.find(
    (r) =>
      r.state === 'FAILURE' &&
      (match.errorType === undefined || r.error?.type === match.errorType) &&
      (match.message === undefined ||
        (typeof match.message === 'string'
          ? (r.error?.message ?? '').includes(match.message)
          : match.message.test(r.error?.message ?? ''))),
  );
  if (!hit) {
    const what = `task "${name}"${match.args === undefined ? '' : ` with args ${show(match.args)}`}`;
    const error = [match.errorType, match.message === undefined ? undefined : String(match.message)].filter(Boolean).join(': ');
    throw new AssertionError(`expected ${what} to fail${error ? ` with ${error}` : ''}; ${listFinished(testApp.results)}`);
  }
  return hit;
}

function finishedOf(testApp: TestApp, name: string, args: unknown[] | undefined): FinishedTask[] {
  return testApp.resultsOf(name).filter((r) => args === undefined || jsonEqual(r.args, args));
}

function listCalls(calls: EnqueuedTask[]): string {
  if (calls.length === 0) return 'nothing was enqueued';
  const shown = calls
    .slice(0, 20)
    .map((c) => `  ${c.name}(${show(c.args).slice(1, -1)})${c.queue === 'default' ? '' : ` on ${c.queue}`}`);
  const more = calls.length > 20 ? [`  … and ${calls.length - 20} more`] : [];
  return `enqueued:\n${[...shown, ...more].join('\n')}`;
}

function listFinished(results: FinishedTask[]): string {
  if (results.length === 0) return 'no task has finished (in manual mode, call drain())';
  const shown = results.slice(0, 20).map((r) => {
    const outcome =
      r.state === 'SUCCESS'
        ? `SUCCESS ${show(r.result ?? null)}`
        : r.error
          ? `${r.state} ${r.error.type}: ${r.error.message}`
          : r.state;
    return `  ${r.name}(${show(r.args).slice(1, -1)}) → ${outcome}`;
  });
  const more = results.length > 20 ? [`  … and ${results.length - 20} more`] : [];
  return `finished:\n${[...shown, ...more].join('\n')}`;
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Equal as JSON data: what JSON.stringify makes of both, with object keys in one order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  });
}
