// `npm start`: runs the web process and the worker process side by side, as
// in production, where they would be two services sharing the broker.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.js';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

// Fail on a bad environment here, once, rather than in both children.
loadConfig();

interface Service {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

function launch(name: string, script: string): Service {
  const child = spawn(process.execPath, ['--import', 'tsx', here(script)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Own process group: a terminal Ctrl-C reaches only us, and we forward
    // one SIGTERM, so the worker sees one signal (two would abort its tasks).
    detached: true,
    env: process.env,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.stdout.write(`start: ${name} pid=${child.pid}\n`);
  return { name, child, exited };
}

const services = [launch('web', './web-main.ts'), launch('worker', './worker.ts')];
let stopping = false;
let firstSignalAt = 0;

function signalAll(signal: NodeJS.Signals): void {
  for (const { child } of services) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  signalAll('SIGTERM');
  await Promise.all(services.map((s) => s.exited));
  process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (!stopping) {
      process.stdout.write(`start: ${signal}, stopping web and worker\n`);
      firstSignalAt = Date.now();
      void stopAll(0);
      return;
    }
    // npm and tsx relay the terminal's signal too: ignore echoes, but a
    // deliberate second Ctrl-C tells the worker to give up its tasks now.
    if (Date.now() - firstSignalAt > 500) signalAll('SIGTERM');
  });
}

for (const service of services) {
  service.child.once('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`start: ${service.name} exited (${signal ?? `code ${code}`}); stopping the rest\n`);
    void stopAll(code === 0 ? 1 : (code ?? 1));
  });
}
