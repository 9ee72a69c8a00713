import { fork, type ChildProcess } from 'node:child_process';
import { Worker as Thread } from 'node:worker_threads';
import { siblingModule } from '../module-url.js';
import type { FromRunner, RunnerInit, ToRunner } from './isolate-protocol.js';

export type IsolateMode = 'thread' | 'process';

/** One worker thread or child process running an isolated handler; killed, not asked, to stop. */
export interface Runner {
  send(message: ToRunner): void;
  onMessage(listener: (message: FromRunner) => void): void;
  /** Called once when it exits (killed, crashed, or the handler called process.exit). */
  onExit(listener: (reason: string) => void): void;
  kill(): void;
}

/** Starts a runner for `init`; TypeScript handlers (and errand from source) load through tsx. */
export function startRunner(mode: IsolateMode, init: RunnerInit): Runner {
  const entry = siblingModule(import.meta.url, 'isolate-entry');
  const typescript = entry.endsWith('.ts') || /\.[cm]?tsx?$/.test(init.module);
  return mode === 'thread' ? threadRunner(entry, init, typescript) : processRunner(entry, init, typescript);
}

function threadRunner(entry: string, init: RunnerInit, typescript: boolean): Runner {
  // Node 20 does not pass the parent's loader hooks on to worker threads.
  const thread = typescript
    ? new Thread(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, {
        eval: true,
        workerData: init,
      })
    : new Thread(new URL(entry), { workerData: init });
  thread.unref();
  let exited = false;
  return {
    send: (message) => thread.postMessage(message),
    onMessage: (listener) => thread.on('message', listener),
    onExit: (listener) => {
      thread.once('error', (error) => listener(`the thread failed: ${error.message}`));
      thread.once('exit', (code) => {
        exited = true;
        listener(`the thread exited with code ${code}`);
      });
    },
    kill: () => {
      if (!exited) void thread.terminate();
    },
  };
}

function processRunner(entry: string, init: RunnerInit, typescript: boolean): Runner {
  const child: ChildProcess = fork(new URL(entry), [], {
    execArgv: typescript ? ['--import', 'tsx'] : [],
    env: { ...process.env, ERRAND_ISOLATE: JSON.stringify(init) },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.unref();
  child.channel?.unref();
  return {
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', listener as (message: unknown) => void),
    onExit: (listener) => {
      child.once('error', (error) => listener(`the process failed: ${error.message}`));
      child.once('exit', (code, signal) => listener(`the process exited with ${signal ?? `code ${code}`}`));
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
