import type { Backend } from '../backend.js';
import { TaskFailedError, TaskNotFoundError, TaskRevokedError, TimeoutError } from '../errors.js';
import type { GetOptions } from '../async-result.js';
import { PushWaiter } from '../push-waiter.js';
import { isTerminal } from '../states.js';
import type { TaskInfo } from '../types.js';
import { workflowTag, type WorkflowRecord, type WorkflowStore } from './workflow-record.js';
import { workflowInfo, type WorkflowInfo } from './workflow-state.js';

/** A handle on one workflow (chain, group, chord), by id: its status, its result, revoke. */
export class WorkflowHandle<R = unknown> {
  constructor(
    readonly id: string,
    private readonly backend: Backend,
    private readonly store: WorkflowStore,
  ) {}

  /** The status, or null when the workflow is unknown (or its record expired). */
  async info(): Promise<WorkflowInfo | null> {
    const record = await this.store.read(this.id);
    return record ? this.infoOf(record) : null;
  }

  /** Yields the status now and at every change of a member, ending after a terminal state. */
  async *watch(options: { signal?: AbortSignal; resyncMs?: number } = {}): AsyncGenerator<WorkflowInfo> {
    const waiter = new PushWaiter();
    // a change that arrives while the status is being read must not be slept through
    const seen = { changed: false };
    const unsubscribe = await this.backend.subscribeTag(workflowTag(this.id), () => {
      seen.changed = true;
      waiter.wake();
    });
    const onAbort = (): void => waiter.wake();
    options.signal?.addEventListener('abort', onAbort);
    try {
      let last = '';
      while (!options.signal?.aborted) {
        seen.changed = false;
        const info = await this.info();
        if (!info) throw new TaskNotFoundError(this.id);
        const key = `${info.state}:${info.steps.map((s) => s.state ?? '-').join(',')}`;
        if (key !== last) {
          last = key;
          yield info;
          if (isTerminal(info.state)) return;
        }
        if (!seen.changed) await waiter.wait(options.resyncMs ?? 1000);
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await unsubscribe();
    }
  }

  /** Waits for the end: the result, or TaskFailedError (the failed step's), TaskRevokedError, TimeoutError. */
  async get(options: GetOptions = {}): Promise<R> {
    const timeoutSignal = options.timeout !== undefined ? AbortSignal.timeout(options.timeout) : undefined;
    const signals = [timeoutSignal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    for await (const info of this.watch({ signal })) {
      if (info.state === 'SUCCESS') return info.result as R;
      if (info.state === 'FAILURE') throw new TaskFailedError(info.error!.taskId, info.error!);
      if (info.state === 'REVOKED') throw new TaskRevokedError(this.id);
    }
    if (timeoutSignal?.aborted) throw new TimeoutError(`workflow ${this.id} did not finish within ${options.timeout} ms`);
    throw options.signal?.reason ?? new TimeoutError(`waiting for workflow ${this.id} was aborted`);
  }

  /**
   * Revokes the workflow: members not yet created never will be, pending and
   * running ones are revoked; finished ones keep their results. Returns how
   * many members were revoked.
   */
  async revoke(): Promise<number> {
    const record = await this.store.read(this.id);
    if (!record) throw new TaskNotFoundError(this.id);
    await this.store.write({ ...record, revoked: true });
    let revoked = 0;
    for (const member of membersOf(record)) {
      const info = await this.backend.getInfo(member.taskId);
      if (!info || isTerminal(info.state)) continue;
      if ((await this.backend.revoke(member.taskId))?.state === 'REVOKED') revoked++;
    }
    return revoked;
  }

  private async infoOf(record: WorkflowRecord): Promise<WorkflowInfo> {
    const infos = new Map<string, TaskInfo>();
    await Promise.all(
      membersOf(record).map(async (m) => {
        const info = await this.backend.getInfo(m.taskId);
        if (info) infos.set(m.taskId, info);
      }),
    );
    return workflowInfo(record, infos);
  }
}

export function membersOf(record: WorkflowRecord): WorkflowRecord['members'] {
  return record.callback ? [...record.members, record.callback] : record.members;
}
