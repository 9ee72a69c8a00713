import { createHash } from 'node:crypto';
import { BrokerError, DecodeError } from '../../core/errors.js';
import type { Debounce, FollowUp, NewTask } from '../../core/backend.js';
import { decodeJson, MAX_JSON_DEPTH } from '../../core/json.js';
import { checkPriority } from '../../core/priority.js';
import { TASK_STATES, type TaskState } from '../../core/states.js';
import type { TaskErrorInfo, TaskInfo, TaskProgress } from '../../core/types.js';

/** Hash fields a TaskInfo is built from (see lua/common.ts), in the order getInfo asks for them. */
export const INFO_FIELDS = ['m', 'j', 'E', 'P', 'R', 'e'] as const;

/** The one-letter state codes of field m (lua/common.ts STATE_CODES). */
const STATE_NAMES: Readonly<Record<string, TaskState>> = {
  p: 'PENDING',
  s: 'STARTED',
  g: 'PROGRESS',
  r: 'RETRY',
  k: 'SUCCESS',
  f: 'FAILURE',
  x: 'REVOKED',
};

/**
 * The lease owner a script stores and compares for a worker id: 12
 * characters of its SHA-1 (72 bits), so field m stays short whatever the
 * worker id (lua/common.ts). Deterministic: the lease thread's own backend
 * maps the id the same way.
 */
export function ownerToken(workerId: string): string {
  return createHash('sha1').update(workerId).digest('base64url').slice(0, 12);
}

/**
 * Field m's state, its times (absolute ms) and its lease owner, in either
 * layout (one-letter states with times after runAt, or the older full names
 * and absolute times); undefined when it is not a state record.
 */
export function decodeStateRecord(m: string): StateRecord | undefined {
  const parts = m.split('|');
  if (parts.length < 9) return undefined;
  const [code, v, a, r, t, S, f, l] = parts as [string, string, string, string, string, string, string, string];
  const coded = STATE_NAMES[code];
  const state = coded ?? (STATES.has(code) ? (code as TaskState) : undefined);
  if (!state || ![v, a, r, t].every(isNumber) || ![S, f, l].every(isOptionalNumber)) return undefined;
  const time = (x: string): number | undefined => (x === '' ? undefined : coded ? Number(t) + Number(x) : Number(x));
  return {
    state,
    version: Number(v),
    attempts: Number(a),
    retries: Number(r),
    runAt: Number(t),
    startedAt: time(S),
    finishedAt: time(f),
    leaseUntil: time(l),
    owner: parts.slice(8).join('|'),
  };
}

export interface StateRecord {
  state: TaskState;
  version: number;
  attempts: number;
  retries: number;
  runAt: number;
  startedAt?: number;
  finishedAt?: number;
  leaseUntil?: number;
  /** ownerToken of the worker holding the lease ('' when none). */
  owner: string;
}

/** The static part of a TaskInfo: name, queue and tags as a JSON fragment (field j), the enqueue time in field e. */
export interface StaticInfo {
  name: string;
  queue: string;
  enqueuedAt: number;
  /** Last in the fragment, and only when there are any: scripts see a tagged task by its closing ']'. */
  tags?: string[];
}

/** What each task hash field holds, for error messages. */
const FIELD_NAMES: Record<string, string> = {
  m: 'state record',
  j: 'name and queue',
  e: 'enqueue time',
  p: 'arguments',
  x: 'expiry time',
  u: 'follow-up',
  o: 'priority',
  E: 'error',
  P: 'progress',
  R: 'result',
};

/** The message of the DecodeError a task hash field that cannot be read is reported with. */
export function unreadableField(id: string, field: string, problem = 'cannot be read'): string {
  return `${fieldLabel(id, field)} ${problem}`;
}

function fieldLabel(id: string, field: string): string {
  return `the stored ${FIELD_NAMES[field] ?? 'value'} (field ${field}) of task ${id}`;
}

export function encodeStatic(task: NewTask): string {
  const fixed: Omit<StaticInfo, 'enqueuedAt'> = { name: task.name, queue: task.queue };
  if (task.tags !== undefined && task.tags.length > 0) fixed.tags = task.tags;
  return JSON.stringify(fixed).slice(1, -1);
}

/** Field u: the task a terminal state enqueues (see lua/common.ts follow_up); '' for none. */
export function encodeFollowUp(task: NewTask): string {
  const f = task.followUp;
  if (f === undefined) return '';
  return JSON.stringify({ id: f.id, name: f.name, queue: f.queue, payload: f.payload } satisfies FollowUp);
}

/** NewTask.debounce as the enqueue script's key argument: '~' replace maxRunAt '|' key (see lua/enqueue.ts). */
export function encodeDebounce({ key, replace, maxRunAt }: Debounce): string {
  return `~${replace ? 1 : 0}${maxRunAt === undefined ? '' : Math.max(0, Math.floor(maxRunAt))}|${key}`;
}

/** NewTask.aging as the suffix of the enqueue script's priority argument: '@' everyMs '|' step '|' max, or ''. */
export function encodeAging({ aging }: NewTask): string {
  return aging === undefined ? '' : `@${aging.everyMs}|${aging.step}|${aging.max}`;
}

/** Field g (lua/common.ts, flow control): group, limits and rate limits, or '' for a task without them. */
export function encodeFlow(task: NewTask): string {
  if (task.group === undefined && !task.limits?.length && !task.rateLimits?.length) return '';
  return JSON.stringify({
    g: task.group ?? '',
    l: (task.limits ?? []).map((l) => [l.key, l.limit]),
    r: (task.rateLimits ?? []).map((r) => [r.key, r.limit, r.perMs]),
  });
}

/**
 * Field o: the priority ('' for 0, which is not stored). Checked like the
 * engine checks it (ConfigError), so that no script sees another value; the
 * scripts read a stored o that is not such an integer as 0 (lua/common.ts
 * priority_of): a priority only orders the queue, it never stops a task.
 */
export function encodePriority(task: NewTask): string {
  const priority = checkPriority(`task ${task.id}: priority`, task.priority);
  return priority === undefined ? '' : String(priority);
}

/**
 * Decodes field j with field e (the enqueue time; records written before e
 * existed have it in j); a DecodeError naming the task and the field when
 * one is missing or not what it should be.
 */
export function decodeStatic(id: string, fragment: string | null | undefined, enqueuedAt?: string | null): StaticInfo {
  if (fragment === null || fragment === undefined) throw new DecodeError(unreadableField(id, 'j', 'is missing'));
  const value = decodeJson(`{${fragment}}`, fieldLabel(id, 'j')) as Partial<StaticInfo>;
  if (typeof value.name !== 'string' || typeof value.queue !== 'string') {
    throw new DecodeError(unreadableField(id, 'j', 'lacks a string name and queue'));
  }
  if (value.enqueuedAt === undefined) {
    if (!isNumber(enqueuedAt ?? undefined)) throw new DecodeError(unreadableField(id, 'e', 'is not a number'));
    value.enqueuedAt = Number(enqueuedAt);
  } else if (!Number.isFinite(value.enqueuedAt)) {
    throw new DecodeError(unreadableField(id, 'j', 'has an enqueuedAt that is no number'));
  }
  if (value.tags !== undefined && !(Array.isArray(value.tags) && value.tags.every((t) => typeof t === 'string'))) {
    throw new DecodeError(unreadableField(id, 'j', 'has tags that are not an array of strings'));
  }
  return value as StaticInfo;
}

const STATES: ReadonlySet<string> = new Set(TASK_STATES);
const isNumber = (s: string | undefined): boolean => s !== undefined && s !== '' && Number.isFinite(Number(s));
const isOptionalNumber = (s: string | undefined): boolean => s === undefined || s === '' || Number.isFinite(Number(s));

/**
 * Builds a TaskInfo from HMGET values of INFO_FIELDS; null when the task is
 * unknown. A record with a field that cannot be read is reported, never
 * thrown: it is a FAILURE with a DecodeError naming the task and the field
 * (whatever its stored state), keeping what could be read.
 */
export function infoFromFields(id: string, values: Array<string | null>): TaskInfo | null {
  const [m, j, E, P, R, e] = values;
  if (!m && !j) return null;
  let problem: string | undefined;
  const fail = (error: unknown): void => {
    problem ??= error instanceof DecodeError ? error.message : String(error);
  };
  const record = m ? decodeStateRecord(m) : undefined;
  if (!m) fail(new DecodeError(unreadableField(id, 'm', 'is missing')));
  else if (!record) fail(new DecodeError(unreadableField(id, 'm', 'is not a state record')));
  let fixed: StaticInfo = { name: '', queue: '', enqueuedAt: 0 };
  try {
    fixed = decodeStatic(id, j, e);
  } catch (error) {
    fail(error);
  }
  const info: TaskInfo = {
    id,
    ...fixed,
    state: record?.state ?? 'FAILURE',
    // at least 1 when m is unreadable: watchers skip version 0
    version: record?.version || 1,
    attempts: record?.attempts ?? 0,
    retries: record?.retries ?? 0,
    runAt: record?.runAt ?? 0,
  };
  if (record?.startedAt !== undefined) info.startedAt = record.startedAt;
  if (record?.finishedAt !== undefined) info.finishedAt = record.finishedAt;
  try {
    if (R !== null && R !== undefined) info.result = decodeJson(R, fieldLabel(id, 'R'));
  } catch (error) {
    fail(error);
  }
  try {
    if (E) info.error = decodeError(id, E);
  } catch (error) {
    fail(error);
  }
  try {
    if (P) info.progress = decodeProgress(id, P);
  } catch (error) {
    fail(error);
  }
  if (problem === undefined) return info;
  delete info.result;
  return { ...info, state: 'FAILURE', error: { type: 'DecodeError', message: problem } };
}

function decodeError(id: string, text: string): TaskErrorInfo {
  const value = decodeJson(text, fieldLabel(id, 'E')) as Partial<TaskErrorInfo> | null;
  if (typeof value?.type !== 'string' || typeof value.message !== 'string') {
    throw new DecodeError(unreadableField(id, 'E', 'is not a {type, message} object'));
  }
  return value as TaskErrorInfo;
}

function decodeProgress(id: string, text: string): TaskProgress {
  // one level more than the meta it wraps
  const value = decodeJson(text, fieldLabel(id, 'P'), MAX_JSON_DEPTH + 1) as Partial<TaskProgress> | null;
  if (typeof value?.current !== 'number')
    throw new DecodeError(unreadableField(id, 'P', 'is not a {current, total, meta} object'));
  return value as TaskProgress;
}

/**
 * Parses a TaskInfo JSON a script returned or published. Scripts embed the
 * stored JSON fields as they are, so a corrupt record makes this throw a
 * DecodeError (the caller reads the record with infoFromFields instead).
 */
export function parseInfo(json: unknown): TaskInfo {
  if (typeof json !== 'string') throw new BrokerError(`redis returned ${typeof json} where a TaskInfo was expected`);
  // the TaskInfo wraps the progress, which wraps its meta
  const info = decodeJson(json, 'a TaskInfo redis returned', MAX_JSON_DEPTH + 2) as TaskInfo;
  // a script leaves out an enqueue time (field e) it cannot read
  if (typeof info?.enqueuedAt !== 'number') throw new DecodeError('a TaskInfo redis returned has no enqueue time');
  return info;
}
