import { RUNNING_STATES } from '../states.js';
import type { TaskInfo } from '../types.js';
import {
  isAfterCursor,
  parseTaskCursor,
  taskCursor,
  type BrokerOverview,
  type QueueSummary,
  type TaskQuery,
} from './admin-backend.js';
import { emptyStateCounts } from './task-query.js';

/**
 * BackendAdmin's views for brokers that answer by visiting every kept task
 * (memory, Redis): the overview's counts and a task list page.
 */
export class OverviewTally {
  private readonly states = emptyStateCounts();
  private readonly queues = new Map<string, QueueSummary>();

  constructor(
    private readonly paused: ReadonlySet<string>,
    private readonly now: number,
  ) {
    for (const queue of paused) this.summary(queue);
  }

  add(info: Pick<TaskInfo, 'state' | 'queue' | 'runAt'>): void {
    this.states[info.state]++;
    const q = this.summary(info.queue);
    if (info.state === 'PENDING' || info.state === 'RETRY') {
      if (info.runAt <= this.now) {
        q.ready++;
        if (q.oldestReadyAt === undefined || info.runAt < q.oldestReadyAt) q.oldestReadyAt = info.runAt;
      } else q.scheduled++;
    } else if (RUNNING_STATES.has(info.state)) q.running++;
  }

  result(): BrokerOverview {
    return { queues: [...this.queues.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1)), states: this.states };
  }

  private summary(queue: string): QueueSummary {
    let q = this.queues.get(queue);
    if (!q) this.queues.set(queue, (q = { queue, ready: 0, scheduled: 0, running: 0, paused: this.paused.has(queue) }));
    return q;
  }
}

/** The tasks a query selects, collected as they are visited, then sorted and cut to one page. */
export class TaskListCollector {
  private readonly matches: TaskInfo[] = [];
  private readonly after;

  /** `query` must have passed checkTaskQuery. */
  constructor(private readonly query: TaskQuery) {
    this.after = parseTaskCursor(query.cursor);
  }

  add(info: TaskInfo): void {
    const { query, after } = this;
    if (query.state !== undefined && info.state !== query.state) return;
    if (query.name !== undefined && info.name !== query.name) return;
    if (query.queue !== undefined && info.queue !== query.queue) return;
    if (query.since !== undefined && info.enqueuedAt < query.since) return;
    if (query.until !== undefined && info.enqueuedAt >= query.until) return;
    if (after !== undefined && !isAfterCursor(info, after)) return;
    this.matches.push(info);
  }

  /** The page (newest first, ties by id descending) and the cursor of the next, if there are more. */
  page(): { picked: TaskInfo[]; next?: string } {
    const { matches, query } = this;
    matches.sort((a, b) => b.enqueuedAt - a.enqueuedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const picked = matches.slice(0, query.limit);
    const last = picked.at(-1);
    return matches.length > query.limit && last ? { picked, next: taskCursor(last) } : { picked };
  }
}
