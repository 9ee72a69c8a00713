import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clock } from './clock.js';
import type { FromChild, ToChild } from './protocol.js';
import type { HandlerMode, SystemName } from './systems/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Extra node flags for worker children (e.g. --cpu-prof); set by the CLI. */
export const childNodeFlags: string[] = [];

/** One `node --import tsx bench/worker.ts` process, driven over IPC. */
export class WorkerChild {
  private readonly process: ChildProcess;
  private readonly waiters: Array<{ type: FromChild['type']; resolve: (m: FromChild) => void; reject: (e: Error) => void }> = [];
  private readonly exited: Promise<void>;
  private output = '';
  /** Latest progress report. */
  done = 0;
  lastDoneAt = 0;
  onProgress?: () => void;

  private constructor(readonly label: string) {
    this.process = spawn(process.execPath, [...childNodeFlags, '--import', 'tsx', 'bench/worker.ts'], {
      cwd: root,
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-20_000);
      if (process.env.BENCH_DEBUG) process.stderr.write(`[${label}] ${d.toString()}`);
    };
    this.process.stdout!.on('data', keep);
    this.process.stderr!.on('data', keep);
    this.process.on('message', (m: FromChild) => this.receive(m));
    this.exited = new Promise((resolve) =>
      this.process.on('exit', (code, signal) => {
        const error = new Error(`worker child ${label} exited (${code ?? signal}):\n${this.output}`);
        for (const w of this.waiters.splice(0)) w.reject(error);
        resolve();
      }),
    );
  }

  static async spawn(label: string): Promise<WorkerChild> {
    const child = new WorkerChild(label);
    await child.expect('ready', 60_000);
    return child;
  }

  private receive(message: FromChild): void {
    if (message.type === 'progress') {
      this.done = message.done;
      this.lastDoneAt = message.lastDoneAt;
      this.onProgress?.();
      return;
    }
    if (message.type === 'error') {
      const error = new Error(`worker child ${this.label}: ${message.message}\n${this.output}`);
      for (const w of this.waiters.splice(0)) w.reject(error);
      return;
    }
    const i = this.waiters.findIndex((w) => w.type === message.type);
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(message);
  }

  private expect<T extends FromChild['type']>(type: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.resolve === done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`worker child ${this.label}: no '${type}' within ${timeoutMs} ms\n${this.output}`));
      }, timeoutMs);
      const done = (m: FromChild): void => {
        clearTimeout(timer);
        resolve(m as Extract<FromChild, { type: T }>);
      };
      this.waiters.push({
        type,
        resolve: done,
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  private post(message: ToChild): void {
    this.process.send(message);
  }

  async prepare(system: SystemName, concurrency: number, mode: HandlerMode): Promise<void> {
    this.done = 0;
    this.lastDoneAt = 0;
    const reply = this.expect('prepared', 30_000);
    this.post({ type: 'prepare', system, concurrency, mode });
    await reply;
  }

  /** Maps the child's clock() (ms) to its CLOCK_MONOTONIC µs (the time base of --cpu-prof). */
  monotonicOffsetUs = 0;

  /** Starts the worker; resolves with the child's clock reading when it began. */
  async go(): Promise<number> {
    const reply = this.expect('started', 30_000);
    this.post({ type: 'go' });
    const started = await reply;
    this.monotonicOffsetUs = started.monotonicOffsetUs;
    return started.goAt;
  }

  async stop(): Promise<Extract<FromChild, { type: 'stopped' }>> {
    const reply = this.expect('stopped', 60_000);
    this.post({ type: 'stop' });
    const stopped = await reply;
    this.done = stopped.done;
    this.lastDoneAt = stopped.lastDoneAt;
    return stopped;
  }

  /** Offset of the child's clock from ours (ms) and the best round trip seen, over `rounds` pings. */
  async clockOffset(rounds = 20): Promise<{ offsetMs: number; rttMs: number }> {
    let best = { offsetMs: 0, rttMs: Infinity };
    for (let i = 0; i < rounds; i++) {
      const reply = this.expect('pong', 5000);
      const t1 = clock();
      this.post({ type: 'ping' });
      const { at } = await reply;
      const t2 = clock();
      if (t2 - t1 < best.rttMs) best = { offsetMs: at - (t1 + t2) / 2, rttMs: t2 - t1 };
    }
    return best;
  }

  /** Asks the child to exit; kills it if it does not within 5 s. */
  async exit(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    try {
      this.post({ type: 'exit' });
    } catch {
      // channel already closed
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }
}

/** Worker children per system, spawned on first use and kept for the whole run. */
export class ChildPool {
  private readonly children = new Map<string, Promise<WorkerChild>>();

  get(system: SystemName, index: number): Promise<WorkerChild> {
    const key = `${system}#${index}`;
    let child = this.children.get(key);
    if (!child) {
      child = WorkerChild.spawn(key);
      this.children.set(key, child);
    }
    return child;
  }

  async take(system: SystemName, count: number): Promise<WorkerChild[]> {
    return Promise.all(Array.from({ length: count }, (_, i) => this.get(system, i)));
  }

  /** Replaces a child that misbehaved (e.g. a phase timed out with its worker still open). */
  async discard(system: SystemName, index: number): Promise<void> {
    const key = `${system}#${index}`;
    const child = this.children.get(key);
    this.children.delete(key);
    await child?.then((c) => c.exit()).catch(() => {});
  }

  async closeAll(): Promise<void> {
    const all = [...this.children.values()];
    this.children.clear();
    await Promise.all(all.map((c) => c.then((child) => child.exit()).catch(() => {})));
  }
}
