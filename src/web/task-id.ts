import { z } from 'zod';
import type { ErrorBody } from './http-errors.js';

// Task ids are the UUIDs errand makes (crypto.randomUUID); anything else is a client bug.
const taskId = z.uuid();
const pollQuery = z.object({ task_id: taskId });

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ErrorBody };

/** Validates `?task_id=` of the poll endpoint. */
export function parsePollQuery(query: unknown): Parsed<string> {
  const result = pollQuery.safeParse(query);
  if (result.success) return { ok: true, value: result.data.task_id };
  const given = (query as Record<string, unknown> | undefined)?.task_id;
  const message = given === undefined ? 'task_id is required' : 'task_id must be a task id (a UUID)';
  return { ok: false, error: { error: 'bad_request', message, field: 'task_id' } };
}

/** Validates a task id taken from the path. */
export function parseTaskId(value: unknown, field = 'id'): Parsed<string> {
  const result = taskId.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: { error: 'bad_request', message: `${field} must be a task id (a UUID)`, field } };
}

/** A Last-Event-ID (a version number); anything else means "from the start". */
export function parseLastEventId(value: unknown): number {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value.trim())) return 0;
  return Number(value.trim());
}
