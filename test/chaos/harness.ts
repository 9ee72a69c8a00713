// The chaos suite's plumbing: child processes (stopped by pid, always), temp
// dirs, figures (`chaos:` lines + test-results/chaos-figures.jsonl), the
// execution records the fixtures write, memory sampling and waiting for tasks.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  closeSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { Errand, TaskInfo } from '../../src/index.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FIGURES_FILE = join(ROOT, 'test-results', 'chaos-figures.jsonl');
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// --- processes ---------------------------------------------------------------

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process the suite started; registered until it exits. */
export class ChaosProcess {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  private tail = '';
  private readonly lineWaiters = new Set<(line: string) => void>();
  private partial = '';
  private status?: ExitStatus;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${name} did not start`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.status = { code, signal };
        live.delete(this);
        resolve(this.status);
      }),
    );
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      this.tail = (this.tail + text).slice(-64 * 1024);
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) for (const waiter of [...this.lineWaiters]) waiter(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    live.add(this);
  }

  get alive(): boolean {
    return this.status === undefined;
  }

  /** The last 64 KiB of stdout + stderr. */
  output(): string {
    return this.tail;
  }

  /** Resolves with the first output line (from now on) that matches; rejects on exit or timeout. */
  waitForLine(match: string | RegExp, timeoutMs = 30_000): Promise<string> {
    const test = (line: string): boolean => (typeof match === 'string' ? line.includes(match) : match.test(line));
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.lineWaiters.delete(onLine);
      };
      const onLine = (line: string): void => {
        if (!test(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`${this.name} (pid ${this.pid}) printed no line matching ${String(match)} in ${timeoutMs} ms:\n${this.tail}`),
        );
      }, timeoutMs);
      this.lineWaiters.add(onLine);
      void this.exited.then((s) => {
        if (!this.lineWaiters.has(onLine)) return;
        done();
        reject(
          new Error(
            `${this.name} (pid ${this.pid}) exited (${s.code ?? s.signal}) before printing ${String(match)}:\n${this.tail}`,
          ),
        );
      });
    });
  }

  /** Sends `signal` to this pid (no-op once it exited). */
  signal(signal: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILLs and waits. */
  async stop(signal: NodeJS.Signals = 'SIGKILL', graceMs = 5000): Promise<ExitStatus> {
    if (!this.alive) return this.exited;
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }
}

const live = new Set<ChaosProcess>();
// Last resort (the test runner itself exits): no child outlives the suite.
process.on('exit', () => {
  for (const p of live) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** Starts `command args` in the repository root with extra env. */
export function spawnProcess(name: string, command: string, args: string[], env: Record<string, string> = {}): ChaosProcess {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.on('error', () => {}); // surfaces as an exit
  return new ChaosProcess(name, child);
}

/** Starts `node --import tsx <script>` and waits for a line containing `ready`. */
export async function startNode(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: string | RegExp = 'ready',
): Promise<{ proc: ChaosProcess; readyLine: string }> {
  const proc = spawnProcess(name, process.execPath, ['--import', 'tsx', script], env);
  const readyLine = await proc.waitForLine(ready, 45_000);
  return { proc, readyLine };
}

/** Every child the suite started and that still runs, by pid. */
export function liveProcesses(): ChaosProcess[] {
  return [...live];
}

// --- scratch space and cleanup ---------------------------------------------

const cleanups: Array<() => Promise<void> | void> = [];
const dirs: string[] = [];

/** A fresh temp dir, removed by cleanupAll(). */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `errand-chaos-${label}-`));
  dirs.push(dir);
  return dir;
}

/** Registers work for cleanupAll() (run in reverse order). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** Stops every child by pid (SIGKILL), then runs the registered cleanups and removes the temp dirs. */
export async function cleanupAll(): Promise<void> {
  await Promise.all(liveProcesses().map((p) => p.stop('SIGKILL')));
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (error) {
      console.warn(`chaos cleanup failed: ${String(error)}`);
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A port on 127.0.0.1 nobody listens on, from `from` upwards. */
export async function freePort(from: number): Promise<number> {
  for (let port = from; port < from + 200; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}..${from + 199}`);
}

// --- figures -------------------------------------------------------------------

let runId: string;
try {
  runId = inject('chaosRunId');
} catch {
  runId = new Date().toISOString();
}

/** Prints `chaos: {...}` and appends the same object to test-results/chaos-figures.jsonl. */
export function reportFigures(scenario: string, broker: string, figures: Record<string, unknown>): void {
  const entry = { scenario, broker, ...figures, run: runId, at: new Date().toISOString() };
  const json = JSON.stringify(entry);
  console.log(`chaos: ${json}`);
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  appendFileSync(FIGURES_FILE, json + '\n');
}

// --- records (one line per handler run) and acknowledgements ------------------

export interface LineEntry {
  id: string;
  at: number;
  /** The pid of the process that wrote it (from the file name). */
  pid: number;
}

/** Every `<id> <epoch ms>` line of the files ending in `ext` in `dir`. */
export function readLines(dir: string, ext: '.rec' | '.ack'): LineEntry[] {
  const out: LineEntry[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(ext)) continue;
    const pid = Number(file.slice(0, -ext.length));
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const [id, at] = line.split(' ');
      if (id && at && id.length === 36) out.push({ id, at: Number(at), pid });
    }
  }
  return out;
}

/** Bytes in the files ending in `ext` in `dir` (record lines are 51 bytes: a cheap progress count). */
export function bytesIn(dir: string, ext: string): number {
  let total = 0;
  for (const file of readdirSync(dir)) if (file.endsWith(ext)) total += statSync(join(dir, file)).size;
  return total;
}

/** Runs per task id, and the duplicates (runs beyond the first). */
export function countRuns(records: LineEntry[]): { runs: Map<string, LineEntry[]>; duplicates: number; duplicateIds: string[] } {
  const runs = new Map<string, LineEntry[]>();
  for (const r of records) {
    const list = runs.get(r.id);
    if (list) list.push(r);
    else runs.set(r.id, [r]);
  }
  const duplicateIds = [...runs].filter(([, list]) => list.length > 1).map(([id]) => id);
  return { runs, duplicates: records.length - runs.size, duplicateIds };
}

/** Follows growing `<id> <ms>` files in a dir, returning the complete lines added since the last call. */
export class LineTail {
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();

  constructor(
    private readonly dir: string,
    private readonly ext: string,
  ) {}

  poll(): Array<{ id: string; at: number }> {
    const ids: Array<{ id: string; at: number }> = [];
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith(this.ext)) continue;
      const path = join(this.dir, file);
      const offset = this.offsets.get(file) ?? 0;
      const size = statSync(path).size;
      if (size <= offset) continue;
      const buffer = Buffer.alloc(size - offset);
      const fd = openSync(path, 'r');
      try {
        readSync(fd, buffer, 0, buffer.length, offset);
      } finally {
        closeSync(fd);
      }
      this.offsets.set(file, size);
      const lines = ((this.partial.get(file) ?? '') + buffer.toString()).split('\n');
      this.partial.set(file, lines.pop() ?? '');
      for (const line of lines) {
        const [id, at] = line.split(' ');
        if (id && id.length === 36) ids.push({ id, at: Number(at) });
      }
    }
    return ids;
  }
}

// --- memory ------------------------------------------------------------------------

/** VmHWM (peak resident set) and VmRSS of a live pid, in MiB; undefined once it is gone. */
export function memoryOf(pid: number): { peakMb: number; rssMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { peakMb: Math.round(kb('VmHWM') / 1024), rssMb: Math.round(kb('VmRSS') / 1024) };
  } catch {
    return undefined;
  }
}

/** Samples the peak RSS (VmHWM) of named pids every `intervalMs` until stop(). */
export class MemoryMonitor {
  private readonly watched = new Map<string, number>();
  private readonly peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 250) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  watch(name: string, pid: number): void {
    this.watched.set(name, pid);
    this.sample();
  }

  sample(): void {
    for (const [name, pid] of this.watched) {
      const memory = memoryOf(pid);
      if (memory) this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, memory.peakMb, memory.rssMb));
    }
  }

  /** Peak RSS per name, in MiB (sampled once more now). */
  stop(): Record<string, number> {
    this.sample();
    clearInterval(this.timer);
    return Object.fromEntries(this.peaks);
  }
}

// --- tasks -------------------------------------------------------------------------

export const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/**
 * Reads the state of every id until each is terminal or unknown (null), or
 * until `timeoutMs`. Unknown ids are final: for an acknowledged task it means lost.
 */
export async function settle(
  app: Errand,
  ids: Iterable<string>,
  timeoutMs: number,
  concurrency = 200,
): Promise<{ states: Map<string, TaskInfo | null>; pending: string[]; ms: number }> {
  const started = Date.now();
  const states = new Map<string, TaskInfo | null>();
  let pending = [...new Set(ids)];
  while (pending.length > 0 && Date.now() - started < timeoutMs) {
    const next: string[] = [];
    for (let i = 0; i < pending.length; i += concurrency) {
      const chunk = pending.slice(i, i + concurrency);
      const infos = await Promise.all(chunk.map((id) => app.backend.getInfo(id).catch(() => undefined)));
      chunk.forEach((id, j) => {
        const info = infos[j];
        if (info === undefined || (info !== null && !TERMINAL.has(info.state))) next.push(id);
        else states.set(id, info);
      });
    }
    pending = next;
    if (pending.length > 0) await sleep(100);
  }
  for (const id of pending) states.set(id, await app.backend.getInfo(id).catch(() => null));
  return { states, pending, ms: Date.now() - started };
}

/** How many of `states` are in each state ('missing' for unknown ids). */
export function stateCounts(states: Map<string, TaskInfo | null>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const info of states.values()) {
    const key = info?.state ?? 'missing';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Polls `check` every `everyMs` until it returns a truthy value; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs: number,
  everyMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The q-quantile (0..1) of `values` (nearest rank); 0 for none. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
