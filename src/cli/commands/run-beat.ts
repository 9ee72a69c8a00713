import { loadApp } from '../load-app.js';
import { untilSignal } from './run-worker.js';

/** `errand beat`: runs the app's beat loop on its own until SIGTERM/SIGINT. */
export async function runBeat(flags: { app: string; broker?: string }, say: (line: string) => void): Promise<void> {
  const app = await loadApp(flags.app, flags.broker);
  const names = app.scheduleNames;
  const beat = app.beat();
  say(
    `errand beat running ${names.length} schedule${names.length === 1 ? '' : 's'} (${names.join(', ') || 'none'}) on ${app.backend.kind}`,
  );
  await untilSignal();
  await beat.stop();
  await app.close();
  say('errand beat stopped');
}
