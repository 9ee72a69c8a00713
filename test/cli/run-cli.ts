import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const APP = 'test/fixtures/cli/app.ts';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `errand <args>` (src/cli/main.ts through tsx) to its end. */
export function errand(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: root,
      env: { ...process.env, ...env, ERRAND_BROKER: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a long-running `errand` command; resolves once stderr shows `ready`. */
export async function start(args: string[], ready: RegExp) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, ERRAND_BROKER: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => ready.test(stderr) || child.exitCode !== null, 30_000);
  if (!ready.test(stderr)) throw new Error(`errand ${args.join(' ')} did not start: ${stderr}`);
  return { child, exited, stderr: () => stderr };
}
