import { CliError } from '../cli-error.js';
import { loadApp } from '../load-app.js';

export interface WorkerFlags {
  app: string;
  broker?: string;
  concurrency?: string;
  queues?: string;
  beat?: boolean;
}

/** `errand worker`: runs the app's worker until SIGTERM/SIGINT (running tasks get the grace period), then exits 0. */
export async function runWorker(flags: WorkerFlags, say: (line: string) => void): Promise<void> {
  const concurrency = flags.concurrency === undefined ? undefined : wholeNumber('--concurrency', flags.concurrency);
  const queues = flags.queues === undefined ? undefined : list('--queues', flags.queues);
  const app = await loadApp(flags.app, flags.broker);
  const worker = app.worker({ concurrency, queues, beat: flags.beat ?? false, handleSignals: false });
  await worker.start();
  say(
    `errand worker ${worker.id} running on ${app.backend.kind}${queues ? ` (queues ${queues.join(', ')})` : ''}${flags.beat ? ' with beat' : ''}`,
  );
  await untilSignal(() => {
    // a second signal: running tasks are released at once instead of getting their grace period
    void worker.stop({ graceMs: 0 });
  });
  await worker.stop();
  await app.close();
  say('errand worker stopped');
}

/** Resolves at the first SIGTERM or SIGINT; `again` runs on each later one. */
export function untilSignal(again: () => void = () => {}): Promise<void> {
  return new Promise((resolve) => {
    let seen = false;
    const onSignal = (): void => {
      if (seen) return again();
      seen = true;
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export function wholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new CliError(`${flag} must be a whole number >= 1, got "${value}"`);
  return n;
}

function list(flag: string, value: string): string[] {
  const items = value.split(',').map((q) => q.trim());
  if (items.some((q) => q === '')) throw new CliError(`${flag} takes queue names separated by commas, got "${value}"`);
  return items;
}
