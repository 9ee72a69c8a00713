import { createInterface } from 'node:readline/promises';
import { TASK_STATES, type TaskState } from '../../core/states.js';
import type { TaskQuery } from '../../core/admin/admin-backend.js';
import { CliError } from '../cli-error.js';
import { printInspect, printTaskPage, stdout } from '../output.js';
import { checkId, withBroker, type BrokerFlags } from './with-broker.js';
import { wholeNumber } from './run-worker.js';

const ACTOR = 'cli';

export interface FilterFlags extends BrokerFlags {
  state?: string;
  name?: string;
  queue?: string;
}

function checkState(state: string | undefined): TaskState | undefined {
  if (state === undefined) return undefined;
  const upper = state.toUpperCase();
  if (!(TASK_STATES as readonly string[]).includes(upper)) {
    throw new CliError(`--state ${state}: not a state (one of ${TASK_STATES.join(', ')})`);
  }
  return upper as TaskState;
}

function filterOf(flags: FilterFlags): Omit<TaskQuery, 'limit' | 'cursor'> {
  const filter: Omit<TaskQuery, 'limit' | 'cursor'> = {};
  const state = checkState(flags.state);
  if (state !== undefined) filter.state = state;
  if (flags.name !== undefined) filter.name = flags.name;
  if (flags.queue !== undefined) filter.queue = flags.queue;
  return filter;
}

function checkQueue(queue: string | undefined): string {
  if (queue === undefined || queue.length === 0) throw new CliError('--queue is required: the queue to act on');
  return queue;
}

/** `errand inspect`: queues, workers, schedules (with --app), dead letters and paused queues. */
export async function inspect(flags: BrokerFlags): Promise<void> {
  const out = stdout(flags.json ?? false);
  return withBroker(flags, async (app) => {
    const [overview, workers, deadLetters] = await Promise.all([
      app.admin.overview(),
      app.admin.workers(),
      app.admin.deadLetters(20),
    ]);
    printInspect(out, { overview, workers, schedules: app.admin.schedules(), deadLetters, now: Date.now() });
  });
}

/** `errand tasks`: one page of tasks, newest first, with the cursor of the next. */
export async function tasks(flags: FilterFlags & { limit?: string; cursor?: string }): Promise<void> {
  const out = stdout(flags.json ?? false);
  const limit = flags.limit === undefined ? 50 : wholeNumber('--limit', flags.limit);
  const query: Partial<TaskQuery> = { ...filterOf(flags), limit };
  if (flags.cursor !== undefined) query.cursor = flags.cursor;
  return withBroker(flags, async (app) => printTaskPage(out, await app.admin.tasks(query)));
}

/** `errand retry <id>` or `errand retry --state FAILURE [--name N --queue Q]`. */
export async function retry(id: string | undefined, flags: FilterFlags, say: (line: string) => void): Promise<void> {
  const out = stdout(flags.json ?? false);
  if (id === undefined && flags.state === undefined && flags.name === undefined && flags.queue === undefined) {
    throw new CliError('give a task id, or --state (and --name, --queue) to retry every task that matches');
  }
  const selection = id === undefined ? { filter: filterOf(flags) } : { ids: [checkId(id)] };
  return withBroker(flags, async (app) => {
    const count = await app.admin.retry(selection, { actor: ACTOR, onProgress: progress(say) });
    if (id !== undefined && count === 0) {
      const info = await app.result(id).info();
      throw new CliError(
        info
          ? `task ${id} is ${info.state}: only FAILURE or REVOKED tasks can be retried`
          : `no task with id ${id} (unknown, or its result expired)`,
      );
    }
    report(out, 'retried', count);
  });
}

/** `errand purge --queue Q`: revokes every waiting task of the queue, after asking (or with --yes). */
export async function purge(flags: BrokerFlags & { queue?: string; yes?: boolean }): Promise<void> {
  const queue = checkQueue(flags.queue);
  const out = stdout(flags.json ?? false);
  return withBroker(flags, async (app) => {
    if (!flags.yes) {
      const waiting = (await app.admin.queues()).find((q) => q.queue === queue);
      const n = (waiting?.ready ?? 0) + (waiting?.scheduled ?? 0);
      await confirm(`Revoke the ${n} waiting task(s) of queue ${queue}?`);
    }
    report(out, 'purged', await app.admin.purge(queue, { actor: ACTOR }));
  });
}

/** `errand pause|resume --queue Q`. */
export async function setPaused(paused: boolean, flags: BrokerFlags & { queue?: string }): Promise<void> {
  const queue = checkQueue(flags.queue);
  const out = stdout(flags.json ?? false);
  return withBroker(flags, async (app) => {
    await (paused ? app.admin.pause(queue, { actor: ACTOR }) : app.admin.resume(queue, { actor: ACTOR }));
    if (out.json) out.write(JSON.stringify({ queue, paused }));
    else out.write(`queue ${queue} ${paused ? 'paused' : 'resumed'}`);
  });
}

/** `errand dead-letters retry|drop <id...>|--all`. */
export async function deadLetterAction(
  action: 'retry' | 'drop',
  ids: string[],
  flags: BrokerFlags & { all?: boolean },
): Promise<void> {
  if (ids.length === 0 && !flags.all) throw new CliError(`give the task ids of the dead letters to ${action}, or --all`);
  if (ids.length > 0 && flags.all) throw new CliError('give ids or --all, not both');
  const chosen = flags.all ? 'all' : ids.map(checkId);
  const out = stdout(flags.json ?? false);
  return withBroker(flags, async (app) => {
    const count =
      action === 'retry'
        ? await app.admin.retryDeadLetters(chosen, { actor: ACTOR })
        : await app.admin.dropDeadLetters(chosen, { actor: ACTOR });
    report(out, action === 'retry' ? 'requeued' : 'dropped', count);
  });
}

function report(out: ReturnType<typeof stdout>, verb: string, count: number): void {
  if (out.json) out.write(JSON.stringify({ [verb]: count }));
  else out.write(`${verb} ${count} task${count === 1 ? '' : 's'}`);
}

/** Progress of a long bulk action on stderr, about once a second. */
function progress(say: (line: string) => void): (done: number) => void {
  let last = Date.now();
  return (done) => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    say(`… ${done} done`);
  };
}

async function confirm(question: string): Promise<void> {
  if (!process.stdin.isTTY) throw new CliError('refusing to purge without confirmation: pass --yes (stdin is not a terminal)');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('not purged');
  } finally {
    rl.close();
  }
}
