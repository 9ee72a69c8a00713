#!/usr/bin/env node
// The `errand` command: a thin shell over the public API (see docs/cli.md).
import { Command, CommanderError } from 'commander';
import { oneLine } from './cli-error.js';
import { runBeat } from './commands/run-beat.js';
import { runWorker } from './commands/run-worker.js';
import { listDeadLetters, revoke, status } from './commands/task-commands.js';
import { deadLetterAction, inspect, purge, retry, setPaused, tasks } from './commands/admin-commands.js';
import { runDashboard } from './commands/run-dashboard.js';

const say = (line: string): void => void process.stderr.write(`${line}\n`);
const verbose = process.argv.includes('--verbose');

function program(): Command {
  const root = new Command('errand')
    .description('Run and inspect errand workers and tasks')
    .option('--verbose', 'print stack traces of errors')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showSuggestionAfterError();
  const broker = (cmd: Command): Command =>
    cmd.option('--broker <url>', 'broker URL (default: $ERRAND_BROKER, else sqlite://./.errand/errand.db)');

  broker(
    root
      .command('worker')
      .description('run a worker for the app module until SIGTERM/SIGINT')
      .requiredOption('--app <path>', 'the module exporting your errand app (as `app` or default); .ts needs tsx')
      .option('--concurrency <n>', 'tasks at once (default 10)')
      .option('--queues <names>', 'queues to consume, comma-separated, in priority order (default: default)')
      .option('--beat', 'also run the beat loop over the app’s schedules'),
  ).action((flags) => runWorker(flags, say));

  broker(
    root
      .command('beat')
      .description('run the beat loop over the app’s schedules')
      .requiredOption('--app <path>', 'the app module'),
  ).action((flags) => runBeat(flags, say));

  broker(
    root
      .command('status <id>')
      .description('show a task’s state (with --watch: each state until the terminal one)')
      .option('--watch', 'follow the task until it ends')
      .option('--json', 'one JSON object per state'),
  ).action((id: string, flags) => status(id, flags));

  broker(root.command('revoke <id>').description('revoke a task').option('--json', 'print the task as JSON')).action(
    (id: string, flags) => revoke(id, flags),
  );

  broker(
    root
      .command('inspect')
      .description('queues, workers, schedules (with --app) and dead letters')
      .option('--app <path>', 'the app module, to list its schedules')
      .option('--json', 'as one JSON object'),
  ).action((flags) => inspect(flags));

  broker(
    root
      .command('tasks')
      .description('list tasks, newest first')
      .option('--state <state>', 'only tasks in this state (PENDING, STARTED, PROGRESS, RETRY, SUCCESS, FAILURE, REVOKED)')
      .option('--name <task>', 'only tasks of this name')
      .option('--queue <queue>', 'only tasks of this queue')
      .option('--limit <n>', 'page size, 1 to 1000 (default 50)')
      .option('--cursor <cursor>', 'the page after the one that printed this cursor')
      .option('--json', 'the page as JSON'),
  ).action((flags) => tasks(flags));

  broker(
    root
      .command('retry [id]')
      .description('run a failed or revoked task again; with --state (--name, --queue) every task that matches')
      .option('--state <state>', 'retry every task in this state (FAILURE or REVOKED)')
      .option('--name <task>', 'only tasks of this name')
      .option('--queue <queue>', 'only tasks of this queue')
      .option('--json', 'print the count as JSON'),
  ).action((id: string | undefined, flags) => retry(id, flags, say));

  broker(
    root
      .command('purge')
      .description('revoke every waiting task of a queue (asks first)')
      .option('--queue <queue>', 'the queue')
      .option('--yes', 'do not ask')
      .option('--json', 'print the count as JSON'),
  ).action((flags) => purge(flags));

  for (const paused of [true, false]) {
    broker(
      root
        .command(paused ? 'pause' : 'resume')
        .description(paused ? 'stop every worker taking tasks from a queue' : 'let workers take tasks from a paused queue again')
        .option('--queue <queue>', 'the queue')
        .option('--json', 'print the result as JSON'),
    ).action((flags) => setPaused(paused, flags));
  }

  broker(
    root
      .command('dashboard')
      .description('serve the live dashboard (loopback only unless credentials are given)')
      .option('--port <n>', 'port (default 5555; 0 picks one)')
      .option('--host <address>', 'address to bind (default 127.0.0.1; another needs $ERRAND_DASHBOARD_TOKEN or --basic)')
      .option('--basic <user:password>', 'HTTP Basic credentials')
      .option('--app <path>', 'the app module, to show its schedules'),
  ).action((flags) => runDashboard(flags, say));

  const dead = root.command('dead-letters').description('messages that could not be decoded or named an unknown task');
  broker(
    dead
      .command('list')
      .description('list dead letters, newest first')
      .option('--limit <n>', 'at most this many (default 100)')
      .option('--json', 'as a JSON array'),
  ).action((flags) => listDeadLetters(flags));
  for (const action of ['retry', 'drop'] as const) {
    broker(
      dead
        .command(`${action} [ids...]`)
        .description(action === 'retry' ? 'run these dead letters’ tasks again' : 'delete these dead letters')
        .option('--all', 'every dead letter')
        .option('--json', 'print the count as JSON'),
    ).action((ids: string[], flags) => deadLetterAction(action, ids, flags));
  }
  return root;
}

try {
  await program().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // commander printed its own one-line message (or the help) already
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`errand: ${oneLine(error)}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  }
}
