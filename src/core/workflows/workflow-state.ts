import type { TaskState } from '../states.js';
import type { TaskErrorInfo, TaskInfo } from '../types.js';
import type { WorkflowKind, WorkflowRecord } from './workflow-record.js';

/** A workflow's status, computed from its record and its members' TaskInfos. */
export interface WorkflowInfo {
  id: string;
  kind: WorkflowKind;
  /** PENDING: nothing started; STARTED: under way; then SUCCESS, FAILURE or REVOKED. */
  state: TaskState;
  /** Steps in all (a chord's callback counts as one). */
  total: number;
  /** Steps that succeeded. */
  done: number;
  steps: Array<{ taskId: string; name: string; state?: TaskState }>;
  /** SUCCESS: a chain's last result, a group's results in order, a chord's callback result. */
  result?: unknown;
  /** FAILURE: the first failed step's error, and which step. */
  error?: TaskErrorInfo & { taskId: string };
}

export function workflowInfo(record: WorkflowRecord, infos: ReadonlyMap<string, TaskInfo>): WorkflowInfo {
  const members = record.callback ? [...record.members, record.callback] : record.members;
  const steps = members.map((m) => {
    const state = infos.get(m.taskId)?.state;
    return state === undefined ? { taskId: m.taskId, name: m.name } : { taskId: m.taskId, name: m.name, state };
  });
  const info: WorkflowInfo = {
    id: record.id,
    kind: record.kind,
    state: 'PENDING',
    total: steps.length,
    done: steps.filter((s) => s.state === 'SUCCESS').length,
    steps,
  };
  const failed = steps.find((s) => s.state === 'FAILURE');
  if (failed) {
    const error = infos.get(failed.taskId)?.error ?? { type: 'Error', message: 'a step failed' };
    return { ...info, state: 'FAILURE', error: { ...error, taskId: failed.taskId } };
  }
  if (record.revoked || steps.some((s) => s.state === 'REVOKED')) return { ...info, state: 'REVOKED' };
  if (info.done === info.total) return { ...info, state: 'SUCCESS', result: resultOf(record, infos) };
  const started = steps.some((s) => s.state !== undefined && s.state !== 'PENDING');
  return { ...info, state: started ? 'STARTED' : 'PENDING' };
}

function resultOf(record: WorkflowRecord, infos: ReadonlyMap<string, TaskInfo>): unknown {
  if (record.kind === 'group') return record.members.map((m) => infos.get(m.taskId)?.result);
  const last = record.callback ?? record.members.at(-1)!;
  return infos.get(last.taskId)?.result;
}
