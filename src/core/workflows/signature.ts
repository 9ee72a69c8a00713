/** What a workflow member may set of its enqueue (ApplyOptions without db, callback or idempotency). */
export interface MemberOptions {
  queue?: string;
  priority?: number;
  countdown?: number;
  eta?: Date | number;
  expires?: number | Date;
  tags?: readonly string[];
}

/**
 * A task with some of its arguments, to run later as a workflow member
 * (Celery's signature: `task.s(...args)`). A chain step and a chord
 * callback get the previous result (the group's results) as their first
 * argument, before these.
 */
export interface Signature<R = unknown> {
  readonly task: string;
  readonly args: readonly unknown[];
  readonly options: MemberOptions;
  /** Type-only: the result type. */
  readonly '~result'?: R;
}

export function signature<R>(task: string, args: readonly unknown[], options: MemberOptions = {}): Signature<R> {
  return { task, args: [...args], options: { ...options } };
}
