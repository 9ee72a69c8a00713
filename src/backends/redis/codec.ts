import { BrokerError } from '../../core/errors.js';
import type { NewTask } from '../../core/backend.js';
import type { TaskState } from '../../core/states.js';
import type { TaskInfo } from '../../core/types.js';

/** Hash fields a TaskInfo is built from (see lua/common.ts), in the order getInfo asks for them. */
export const INFO_FIELDS = ['m', 'j', 'E', 'P', 'R'] as const;

/** The static part of a TaskInfo, stored once as a JSON fragment (field j). */
export interface StaticInfo {
  name: string;
  queue: string;
  enqueuedAt: number;
}

export function encodeStatic(task: NewTask): string {
  const json = JSON.stringify({ name: task.name, queue: task.queue, enqueuedAt: task.enqueuedAt } satisfies StaticInfo);
  return json.slice(1, -1);
}

export function decodeStatic(fragment: string): StaticInfo {
  return JSON.parse(`{${fragment}}`) as StaticInfo;
}

/** Builds a TaskInfo from HMGET values of INFO_FIELDS; null when the task is unknown. */
export function infoFromFields(id: string, values: Array<string | null>): TaskInfo | null {
  const [m, j, E, P, R] = values;
  if (!m || !j) return null;
  // state|version|attempts|retries|runAt|startedAt|finishedAt|leaseUntil|workerId
  const [s, v, a, r, t, S, f] = m.split('|', 7);
  const info: TaskInfo = {
    id,
    ...decodeStatic(j),
    state: s as TaskState,
    version: Number(v),
    attempts: Number(a),
    retries: Number(r),
    runAt: Number(t),
  };
  if (S) info.startedAt = Number(S);
  if (f) info.finishedAt = Number(f);
  if (R !== null && R !== undefined) info.result = JSON.parse(R);
  if (E) info.error = JSON.parse(E);
  if (P) info.progress = JSON.parse(P);
  return info;
}

/** Parses a TaskInfo JSON a script returned or published. */
export function parseInfo(json: unknown): TaskInfo {
  if (typeof json !== 'string') throw new BrokerError(`redis returned ${typeof json} where a TaskInfo was expected`);
  return JSON.parse(json) as TaskInfo;
}
