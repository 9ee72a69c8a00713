import { CliError } from '../cli-error.js';
import { printDeadLetters, printInfo, stdout } from '../output.js';
import { checkId, withBroker, type BrokerFlags } from './with-broker.js';
import { wholeNumber } from './run-worker.js';

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

/** `errand revoke <id>`: a pending task never runs; a running one is aborted (in the action log as 'cli'). */
export function revoke(id: string, flags: BrokerFlags): Promise<void> {
  checkId(id);
  const out = stdout(flags.json ?? false);
  return withBroker(flags, async (app) => {
    if (!(await app.result(id).info())) throw new CliError(`no task with id ${id} (unknown, or its result expired)`);
    await app.admin.revoke({ ids: [id] }, { actor: 'cli' });
    printInfo(out, (await app.result(id).info())!);
  });
}

/** `errand dead-letters list [--limit N]`: newest first. */
export function listDeadLetters(flags: BrokerFlags & { limit?: string }): Promise<void> {
  const limit = flags.limit === undefined ? 100 : wholeNumber('--limit', flags.limit);
  const out = stdout(flags.json ?? false);
  return withBroker(flags, async (app) => printDeadLetters(out, await app.deadLetters(limit)));
}
