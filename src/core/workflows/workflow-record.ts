import type { BackendAdmin } from '../admin/admin-backend.js';
import { InvalidArgumentError } from '../errors.js';
import type { MemberOptions } from './signature.js';

export type WorkflowKind = 'chain' | 'group' | 'chord';

/** One member as the record keeps it: its task id is fixed when the workflow is applied. */
export interface MemberRecord {
  taskId: string;
  name: string;
  args: unknown[];
  options: MemberOptions;
}

/** What the broker keeps of a workflow (a BackendAdmin record): enough to advance it from any worker. */
export interface WorkflowRecord {
  id: string;
  kind: WorkflowKind;
  createdAt: number;
  /** Chain steps in order, or the group's (chord's) members. */
  members: MemberRecord[];
  /** A chord's callback. */
  callback?: MemberRecord;
  revoked?: boolean;
}

export const WORKFLOW_RECORDS = 'workflow';
/** The task that advances workflows: a follow-up of every member. */
export const ADVANCE_TASK = 'errand.workflow';

/** The tag every member carries, so the workflow's changes arrive in one feed. */
export function workflowTag(id: string): string {
  return `workflow:${id}`;
}

/** The idempotency key of a member created by an advance: a retried advance finds it instead of enqueueing twice. */
export function memberKey(workflowId: string, taskId: string): string {
  return `errand.workflow:${workflowId}:${taskId}`;
}

export class WorkflowStore {
  constructor(
    private readonly admin: BackendAdmin,
    private readonly ttlMs: number,
  ) {}

  async write(record: WorkflowRecord): Promise<void> {
    await this.admin.putRecords(WORKFLOW_RECORDS, [{ id: record.id, json: JSON.stringify(record) }], this.ttlMs);
  }

  async read(id: string): Promise<WorkflowRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new InvalidArgumentError('id', 'a workflow id is a UUID');
    const [found] = (await this.admin.listRecords(WORKFLOW_RECORDS, id)).filter((r) => r.id === id);
    return found ? (JSON.parse(found.json) as WorkflowRecord) : undefined;
  }
}
