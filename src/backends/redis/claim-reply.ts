import type { ClaimedTask, ClaimRequest } from '../../core/backend.js';
import { decodeStatic, type StaticInfo, unreadableField } from './codec.js';

/**
 * One task of a claim reply (id, j, p, attempt, retries, problem, trace). A record
 * that cannot be read is still handed out, marked undecodable (with
 * placeholders for what is unreadable), so that the engine dead-letters it
 * while the rest of the batch runs.
 */
export function claimedFromReply(reply: Array<string | number | null>, i: number, request: ClaimRequest): ClaimedTask {
  const id = String(reply[i]);
  const payload = reply[i + 2];
  const problem = reply[i + 5];
  let undecodable = problem ? unreadableField(id, String(problem)) : undefined;
  let fixed: StaticInfo;
  try {
    fixed = decodeStatic(id, reply[i + 1] === null ? null : String(reply[i + 1]));
  } catch (error) {
    undecodable ??= (error as Error).message;
    // the queue is known only when there was one to claim from
    fixed = { name: '', queue: request.queues.length === 1 ? request.queues[0]! : '', enqueuedAt: 0 };
  }
  if (payload === null) undecodable ??= unreadableField(id, 'p', 'is missing');
  const task: ClaimedTask = {
    id,
    name: fixed.name,
    queue: fixed.queue,
    payload: payload === null ? '' : String(payload),
    attempt: Number(reply[i + 3]),
    retries: Number(reply[i + 4]),
    enqueuedAt: fixed.enqueuedAt,
    workerId: request.workerId,
  };
  const trace = reply[i + 6];
  if (typeof trace === 'string' && trace !== '') task.trace = trace;
  if (undecodable !== undefined) task.undecodable = undecodable;
  return task;
}
