import { randomUUID } from 'node:crypto';
import type { Backend, FollowUp, NewTask } from '../backend.js';
import { ConfigError } from '../errors.js';
import type { ApplyOptions, TaskHandler, TaskOptions } from '../task.js';
import { isTerminal } from '../states.js';
import type { Signature } from './signature.js';
import { WorkflowHandle } from './workflow-handle.js';
import {
  ADVANCE_TASK,
  memberKey,
  workflowTag,
  WorkflowStore,
  type MemberRecord,
  type WorkflowKind,
  type WorkflowRecord,
} from './workflow-record.js';

export interface WorkflowDependencies {
  backend: Backend;
  now(): number;
  /** Builds a member's NewTask as the app builds any (payload limit, due time, tags), with this id. */
  build(name: string, args: unknown[], options: ApplyOptions, id: string): NewTask;
  /** Throws a ConfigError for a task that cannot be a member (unknown, or debounced: its id is not its own). */
  checkMember(name: string, what: string): void;
  /** Registers the advance task on the app. */
  define(name: string, handler: TaskHandler<[string, number], string>, options: TaskOptions): void;
  /** How long a workflow's record is kept (default 7 days). */
  ttlMs: number;
}

/**
 * Chains, groups and chords on the broker's own guarantees: every member
 * that must advance the workflow carries a follow-up (created atomically
 * with its terminal state, so a crash cannot lose a step), and members that
 * an advance creates have an idempotency key (so a retried or concurrent
 * advance creates them once: a chord's callback runs exactly once).
 */
export class Workflows {
  private readonly store: WorkflowStore;

  constructor(private readonly deps: WorkflowDependencies) {
    this.store = new WorkflowStore(deps.backend.admin, deps.ttlMs);
    deps.define(ADVANCE_TASK, (_ctx, id, index) => this.advance(id, index), {
      retry: { max: 10, backoff: { base: 200, cap: 30_000 } },
    });
  }

  handle<R>(id: string): WorkflowHandle<R> {
    return new WorkflowHandle<R>(id, this.deps.backend, this.store);
  }

  async apply<R>(kind: WorkflowKind, signatures: readonly Signature[], callback?: Signature): Promise<WorkflowHandle<R>> {
    if (!Array.isArray(signatures) || signatures.length === 0) throw new ConfigError(`a ${kind} needs at least one signature`);
    const member = (sig: Signature, what: string): MemberRecord => {
      if (typeof sig?.task !== 'string' || !Array.isArray(sig.args))
        throw new ConfigError(`${what} is not a signature (task.s(...args))`);
      this.deps.checkMember(sig.task, what);
      return { taskId: randomUUID(), name: sig.task, args: [...sig.args], options: sig.options ?? {} };
    };
    const record: WorkflowRecord = {
      id: randomUUID(),
      kind,
      createdAt: this.deps.now(),
      members: signatures.map((sig, i) => member(sig, `${kind}[${i}]`)),
    };
    if (callback !== undefined) record.callback = member(callback, 'the chord callback');
    // Built before anything is stored, so a bad member stores nothing.
    const first = kind === 'chain' ? [0] : record.members.map((_, i) => i);
    const tasks = first.map((i) => this.memberTask(record, i, record.members[i]!.args));
    await this.store.write(record);
    await this.deps.backend.enqueueMany(tasks);
    return this.handle<R>(record.id);
  }

  /** The advance task's handler: after member `index` ended, create what comes next (if anything). */
  private async advance(id: string, index: number): Promise<string> {
    const record = await this.store.read(id);
    if (!record) return 'expired';
    if (record.revoked) return 'revoked';
    const next = record.kind === 'chain' ? await this.nextStep(record, index) : await this.chordCallback(record, index);
    if (next === undefined) return 'waiting';
    const created = await this.deps.backend.enqueue(next);
    // A revoke that ran meanwhile could not see this member yet: undo it.
    if ((await this.store.read(id))?.revoked) await this.deps.backend.revoke(next.id);
    return created.created ? 'advanced' : 'already advanced';
  }

  private async nextStep(record: WorkflowRecord, index: number): Promise<NewTask | undefined> {
    const done = record.members[index];
    const next = record.members[index + 1];
    if (!done || !next) return undefined;
    const info = await this.deps.backend.getInfo(done.taskId);
    if (info?.state !== 'SUCCESS') return undefined;
    return this.memberTask(record, index + 1, [info.result ?? null, ...next.args], true);
  }

  /** After member `index` ended: the callback's task once every member succeeded. */
  private async chordCallback(record: WorkflowRecord, index: number): Promise<NewTask | undefined> {
    if (!record.callback) return undefined;
    const { members } = record;
    // one read while members are still running: the member after this one (members tend to end
    // in order) is usually one of them, and then not all are done; only the last ones to end read them all
    const next = members[(index + 1) % members.length]!;
    const nextInfo = await this.deps.backend.getInfo(next.taskId);
    if (!nextInfo || !isTerminal(nextInfo.state)) return undefined;
    // members that end together: the first advance to see them all made the callback (its id is fixed)
    if ((await this.deps.backend.getInfo(record.callback.taskId)) !== null) return undefined;
    const infos = await Promise.all(members.map((m) => this.deps.backend.getInfo(m.taskId)));
    if (!infos.every((info) => info && isTerminal(info.state))) return undefined;
    if (!infos.every((info) => info!.state === 'SUCCESS')) return undefined;
    const results = infos.map((info) => info!.result ?? null);
    return this.taskOf(record, record.callback, [results, ...record.callback.args], true, undefined);
  }

  /** Member `index` as a NewTask: tagged with the workflow, advancing it when it ends (chain, chord). */
  private memberTask(record: WorkflowRecord, index: number, args: unknown[], keyed = false): NewTask {
    const member = record.members[index]!;
    const advances = (record.kind === 'chain' && index < record.members.length - 1) || record.kind === 'chord';
    return this.taskOf(record, member, args, keyed, advances ? index : undefined);
  }

  private taskOf(
    record: WorkflowRecord,
    member: MemberRecord,
    args: unknown[],
    keyed: boolean,
    advanceIndex: number | undefined,
  ): NewTask {
    const tags = [...new Set([workflowTag(record.id), ...(member.options.tags ?? [])])];
    const options: ApplyOptions = { ...member.options, tags };
    if (keyed) options.idempotencyKey = memberKey(record.id, member.taskId);
    const task = this.deps.build(member.name, args, options, member.taskId);
    if (advanceIndex !== undefined) task.followUp = this.advanceFollowUp(record.id, advanceIndex, task.queue);
    return task;
  }

  private advanceFollowUp(id: string, index: number, queue: string): FollowUp {
    // In the member's own queue: a worker that runs the member runs its advance too.
    return { id: randomUUID(), name: ADVANCE_TASK, queue, payload: JSON.stringify([id, index]) };
  }
}
