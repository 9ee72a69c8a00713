import { createApp } from '../../create-app.js';
import type { Errand } from '../../core/errand.js';
import { CliError } from '../cli-error.js';
import { printDeadLetters, printInfo, stdout } from '../output.js';
import { wholeNumber } from './run-worker.js';

export interface BrokerFlags {
  broker?: string;
  json?: boolean;
}

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The app the read and control commands use: no task definitions needed, the broker from --broker or ERRAND_BROKER. */
async function withBroker<T>(flags: BrokerFlags, run: (app: Errand) => Promise<T>): Promise<T> {
  const app = createApp({ broker: flags.broker, logger: false });
  try {
    return await run(app);
  } finally {
    await app.close().catch(() => {});
  }
}

function checkId(id: string): string {
  if (!TASK_ID.test(id)) throw new CliError(`"${id}" is not a task id (a UUID)`);
  return id;
}

/** `errand status <id> [--watch]`: the task's state, or every state until the terminal one. */
export function status(id: string, flags: BrokerFlags & { watch?: boolean }): Promise<void> {
  checkId(id);
  const out = stdout(flags.json ?? false);
  return withBroker(flags, async (app) => {
    if (!flags.watch) {
      const info = await app.result(id).info();
      if (!info) throw new CliError(`no task with id ${id} (unknown, or its result expired)`);
      return printInfo(out, info);
    }
    try {
      for await (const info of app.watch(id)) printInfo(out, info);
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_TASK_NOT_FOUND')
        throw new CliError(`no task with id ${id} (unknown, or its result expired)`);
      throw error;
    }
  });
}

/** `errand revoke <id>`: a pending task never runs; a running one is aborted. */
export function revoke(id: string, flags: BrokerFlags): Promise<void> {
  checkId(id);
  const out = stdout(flags.json ?? false);
  return withBroker(flags, async (app) => {
    const info = await app.backend.revoke(id);
    if (!info) throw new CliError(`no task with id ${id} (unknown, or its result expired)`);
    printInfo(out, info);
  });
}

/** `errand dead-letters list [--limit N]`: newest first. */
export function listDeadLetters(flags: BrokerFlags & { limit?: string }): Promise<void> {
  const limit = flags.limit === undefined ? 100 : wholeNumber('--limit', flags.limit);
  const out = stdout(flags.json ?? false);
  return withBroker(flags, async (app) => printDeadLetters(out, await app.deadLetters(limit)));
}
