import { createApp } from '../../create-app.js';
import type { Errand } from '../../core/errand.js';
import { CliError } from '../cli-error.js';
import { loadApp } from '../load-app.js';

export interface BrokerFlags {
  broker?: string;
  json?: boolean;
  /** The app module, for what only the app knows (its schedules). */
  app?: string;
}

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The app the read and control commands use: the --app module when given,
 * else a bare app (no task definitions needed) on --broker or ERRAND_BROKER.
 */
export async function withBroker<T>(flags: BrokerFlags, run: (app: Errand) => Promise<T>): Promise<T> {
  const app =
    flags.app === undefined ? createApp({ broker: flags.broker, logger: false }) : await loadApp(flags.app, flags.broker);
  try {
    return await run(app);
  } finally {
    await app.close().catch(() => {});
  }
}

export function checkId(id: string): string {
  if (!TASK_ID.test(id)) throw new CliError(`"${id}" is not a task id (a UUID)`);
  return id;
}
