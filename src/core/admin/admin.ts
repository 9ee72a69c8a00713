import type { Backend } from '../backend.js';
import type { ScheduleEntry } from '../beat/schedule-spec.js';
import type { Clock } from '../clock.js';
import { InvalidArgumentError } from '../errors.js';
import { isTerminal } from '../states.js';
import type { TaskInfo } from '../types.js';
import type { QueueSummary, TaskPage, TaskQuery } from './admin-backend.js';
import type {
  ActionEntry,
  ActionOptions,
  AttemptRecord,
  DeadLetter,
  History,
  Overview,
  ScheduleInfo,
  TaskDetail,
  TaskSelection,
  WorkerInfo,
} from './admin-types.js';
import { ACTION_LOG, ATTEMPT_RECORDS, DEPTH_RECORDS, WORKER_RECORDS } from './bookkeeping-keys.js';
import { readHistory } from './history.js';

const ACTION_LOG_KEEP = 1000;
const BULK_PAGE = 500;

export interface AdminDependencies {
  backend: Backend;
  clock: Clock;
  schedules(): readonly ScheduleEntry[];
}

/**
 * The operations API (`app.admin`): what the CLI and the dashboard show and
 * do, over any broker (BackendAdmin underneath). Every action is written to
 * the action log with its actor.
 */
export class Admin {
  constructor(private readonly deps: AdminDependencies) {}

  private get backend(): Backend {
    return this.deps.backend;
  }

  /** Queues, tasks by state, live workers, dead letters and paused queues at a glance. */
  async overview(): Promise<Overview> {
    const [broker, workers, deadLetters, paused] = await Promise.all([
      this.backend.admin.overview(),
      this.workers(),
      this.backend.listDeadLetters(10_000),
      this.backend.admin.pausedQueues(),
    ]);
    return { ...broker, workers: workers.length, deadLetters: deadLetters.length, paused };
  }

  async queues(): Promise<QueueSummary[]> {
    return (await this.backend.admin.overview()).queues;
  }

  /** One page of tasks, newest first (limit defaults to 50). */
  tasks(query: Partial<TaskQuery> = {}): Promise<TaskPage> {
    return this.backend.admin.listTasks({ limit: 50, ...query });
  }

  /** A task with its decoded arguments and every attempt; null when unknown or expired. */
  async task(id: string): Promise<TaskDetail | null> {
    const [record, reported] = await Promise.all([
      this.backend.admin.getTask(id),
      this.backend.admin.listRecords(ATTEMPT_RECORDS, `${id}:`),
    ]);
    if (!record) return null;
    const detail: TaskDetail = {
      info: record.info,
      args: decodeArgs(record.payload),
      argsBytes: Buffer.byteLength(record.payload),
      deadLettered: record.deadLettered,
      attempts: attemptsOf(
        record.info,
        reported.map((r) => JSON.parse(r.json) as AttemptRecord),
      ),
    };
    if (record.trace !== undefined) detail.trace = record.trace;
    return detail;
  }

  deadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.backend.listDeadLetters(limit);
  }

  /** Workers that sent a heartbeat within the last 15 s, by id. */
  async workers(): Promise<WorkerInfo[]> {
    const records = await this.backend.admin.listRecords(WORKER_RECORDS);
    return records.map((r) => JSON.parse(r.json) as WorkerInfo);
  }

  /** This app's schedules with their next run (beat runs them; see docs/beat.md). */
  schedules(): ScheduleInfo[] {
    const t = this.deps.clock.now();
    return this.deps.schedules().map((entry) => ({
      name: entry.name,
      task: entry.task,
      spec:
        'cron' in entry.spec
          ? `cron ${entry.spec.cron}${entry.spec.tz ? ` ${entry.spec.tz}` : ''}`
          : `every ${entry.spec.every} ms`,
      nextRunAt: entry.plan.next(t),
    }));
  }

  /** Throughput per task name per minute and queue depth samples since `since` (default: the last hour). */
  history(options: { since?: number } = {}): Promise<History> {
    const since = options.since ?? this.deps.clock.now() - 60 * 60 * 1000;
    return readHistory(this.backend.admin, since, DEPTH_RECORDS);
  }

  /** The newest operator actions first. */
  async actions(limit = 100): Promise<ActionEntry[]> {
    return (await this.backend.admin.readLog(ACTION_LOG, limit)).map((json) => JSON.parse(json) as ActionEntry);
  }

  /** Runs failed or revoked tasks again (see BackendAdmin.retryTasks); returns how many moved. */
  async retry(selection: TaskSelection, options: ActionOptions = {}): Promise<number> {
    const count = await this.eachBatch(selection, options, (ids) =>
      this.backend.admin.retryTasks(ids).then((moved) => moved.length),
    );
    await this.log('retry', describeSelection(selection), count, options);
    return count;
  }

  /** Revokes tasks that have not finished; returns how many were revoked. */
  async revoke(selection: TaskSelection, options: ActionOptions = {}): Promise<number> {
    const count = await this.eachBatch(selection, options, async (ids) => {
      let revoked = 0;
      for (const id of ids) {
        const before = await this.backend.getInfo(id);
        if (!before || isTerminal(before.state)) continue;
        if ((await this.backend.revoke(id))?.state === 'REVOKED') revoked++;
      }
      return revoked;
    });
    await this.log('revoke', describeSelection(selection), count, options);
    return count;
  }

  /** Revokes every waiting task of a queue; returns how many. */
  async purge(queue: string, options: ActionOptions = {}): Promise<number> {
    checkQueue(queue);
    const count = await this.backend.admin.purgeQueue(queue);
    await this.log('purge', `queue ${queue}`, count, options);
    return count;
  }

  async pause(queue: string, options: ActionOptions = {}): Promise<void> {
    checkQueue(queue);
    await this.backend.admin.setQueuePaused(queue, true);
    await this.log('pause', `queue ${queue}`, 1, options);
  }

  async resume(queue: string, options: ActionOptions = {}): Promise<void> {
    checkQueue(queue);
    await this.backend.admin.setQueuePaused(queue, false);
    await this.log('resume', `queue ${queue}`, 1, options);
  }

  /** Puts dead letters back to work: these ids, or 'all'. Returns how many tasks were re-queued. */
  async retryDeadLetters(ids: readonly string[] | 'all', options: ActionOptions = {}): Promise<number> {
    const chosen = ids === 'all' ? await this.allDeadLetterIds() : ids;
    const count = (await this.backend.admin.retryDeadLetters(chosen)).length;
    await this.log('retry-dead-letters', ids === 'all' ? 'all' : describeIds(chosen), count, options);
    return count;
  }

  /** Deletes dead letters: these ids, or 'all'. Returns how many entries went. */
  async dropDeadLetters(ids: readonly string[] | 'all', options: ActionOptions = {}): Promise<number> {
    const chosen = ids === 'all' ? await this.allDeadLetterIds() : ids;
    const count = await this.backend.admin.dropDeadLetters(chosen);
    await this.log('drop-dead-letters', ids === 'all' ? 'all' : describeIds(chosen), count, options);
    return count;
  }

  private async allDeadLetterIds(): Promise<string[]> {
    return [...new Set((await this.backend.listDeadLetters(1_000_000)).map((d) => d.id))];
  }

  /** Applies `act` to the selected ids in batches, reporting progress; returns the sum of what it returned. */
  private async eachBatch(
    selection: TaskSelection,
    options: ActionOptions,
    act: (ids: readonly string[]) => Promise<number>,
  ): Promise<number> {
    let done = 0;
    if ('ids' in selection) {
      for (let i = 0; i < selection.ids.length; i += BULK_PAGE) {
        done += await act(selection.ids.slice(i, i + BULK_PAGE));
        options.onProgress?.(done);
      }
      return done;
    }
    // Collect first: acting while paging would move tasks under the cursor's feet.
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.backend.admin.listTasks({ ...selection.filter, limit: 1000, ...(cursor ? { cursor } : {}) });
      ids.push(...page.tasks.map((t) => t.id));
      cursor = page.next;
    } while (cursor !== undefined);
    return this.eachBatch({ ids }, options, act);
  }

  private async log(action: ActionEntry['action'], target: string, count: number, options: ActionOptions): Promise<void> {
    const entry: ActionEntry = { at: this.deps.clock.now(), actor: options.actor ?? 'api', action, target, count };
    await this.backend.admin.appendLog(ACTION_LOG, JSON.stringify(entry), ACTION_LOG_KEEP);
  }
}

function checkQueue(queue: string): void {
  if (typeof queue !== 'string' || queue.length === 0 || queue.length > 200) {
    throw new InvalidArgumentError('queue', 'must be a queue name of 1 to 200 characters');
  }
}

function decodeArgs(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

function describeIds(ids: readonly string[]): string {
  const listed = ids.slice(0, 20).join(', ');
  return ids.length > 20 ? `${listed} and ${ids.length - 20} more` : listed;
}

function describeSelection(selection: TaskSelection): string {
  if ('ids' in selection) return describeIds(selection.ids);
  const parts = Object.entries(selection.filter)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? `filter ${parts.join(' ')}` : 'all tasks';
}

/**
 * The reported attempts, plus those the task's own record shows that no
 * worker reported (a first attempt that succeeded, or one still running).
 */
function attemptsOf(info: TaskInfo, reported: AttemptRecord[]): AttemptRecord[] {
  const byNumber = new Map(reported.map((a) => [a.attempt, a]));
  const out: AttemptRecord[] = [];
  for (let n = 1; n <= info.attempts; n++) {
    const known = byNumber.get(n);
    if (known) out.push(known);
    else if (n === info.attempts && info.startedAt !== undefined) out.push(lastAttempt(info));
    // a delivery whose worker died before reporting it
    else out.push({ attempt: n, result: 'unknown' });
  }
  return out;
}

function lastAttempt(info: TaskInfo): AttemptRecord {
  const running = info.state === 'STARTED' || info.state === 'PROGRESS';
  const result = running ? 'running' : info.state === 'SUCCESS' ? 'success' : 'unknown';
  const last: AttemptRecord = { attempt: info.attempts, startedAt: info.startedAt, result };
  if (!running && info.finishedAt !== undefined) last.endedAt = info.finishedAt;
  return last;
}
