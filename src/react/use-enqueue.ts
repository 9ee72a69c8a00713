import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedTask } from '../client/index.js';
import { EnqueueError, postForTask, type EnqueueBody, type EnqueueRequestOptions } from './enqueue.js';
import type { TaskStatus } from './task-status.js';
import { useTaskStatus, type UseTaskStatusOptions } from './use-task-status.js';

export type UseEnqueueOptions<T extends TypedTask = TypedTask> = EnqueueRequestOptions & UseTaskStatusOptions<T>;

export interface Enqueue<T extends TypedTask = TypedTask> {
  /**
   * POSTs the values and follows the task id the endpoint answers. Resolves
   * with the id, or undefined when the submission failed (see `error`);
   * never rejects. A new submit replaces the one before.
   */
  submit(values: EnqueueBody): Promise<string | undefined>;
  /** The task being followed, once the endpoint answered. */
  taskId: string | undefined;
  /** Its status (connection 'idle' before the first submit). */
  status: TaskStatus<T>;
  /** From submit until the task is done (or the submission or watch failed): show "Processing…". */
  pending: boolean;
  /** Why the submission failed, else the task's error message (FAILURE, RETRY) or why watching failed. */
  error: string | undefined;
  /** The refused submission: its HTTP status and JSON body (validation errors…). */
  submitError: EnqueueError | undefined;
  /** Forgets the task and any error (stops following). */
  reset(): void;
}

/**
 * The POST-then-watch flow of a form: submit() posts to `url`, which
 * enqueues a task and answers `{ task_id }` at once (like the reference
 * app's POST /form/ and /users/form/), then the hook follows that task with
 * useTaskStatus. `useEnqueue<typeof task>(url)` types the result and progress meta.
 */
export function useEnqueue<T extends TypedTask = TypedTask>(url: string, options: UseEnqueueOptions<T> = {}): Enqueue<T> {
  const [taskId, setTaskId] = useState<string | undefined>(undefined);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<EnqueueError | undefined>(undefined);
  const status = useTaskStatus<T>(taskId, options);
  const latest = useRef({ url, options });
  useEffect(() => {
    latest.current = { url, options };
  });
  const inFlight = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => inFlight.current?.abort(), []);

  const submit = useCallback(async (values: EnqueueBody): Promise<string | undefined> => {
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    setTaskId(undefined);
    setSubmitError(undefined);
    setSubmitting(true);
    try {
      const id = await postForTask(latest.current.url, values, latest.current.options, controller.signal);
      if (controller.signal.aborted) return undefined;
      setTaskId(id);
      return id;
    } catch (error) {
      if (controller.signal.aborted) return undefined;
      setSubmitError(error instanceof EnqueueError ? error : new EnqueueError(errorText(error), 0, undefined));
      return undefined;
    } finally {
      if (inFlight.current === controller) {
        inFlight.current = undefined;
        setSubmitting(false);
      }
    }
  }, []);

  const reset = useCallback((): void => {
    inFlight.current?.abort();
    inFlight.current = undefined;
    setTaskId(undefined);
    setSubmitError(undefined);
    setSubmitting(false);
  }, []);

  const watching = taskId !== undefined && !status.done && status.watchError === undefined;
  return {
    submit,
    taskId,
    status,
    pending: submitting || watching,
    error: submitError?.message ?? status.error,
    submitError,
    reset,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
