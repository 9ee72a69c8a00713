import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { clock } from '../clock.js';
import { HOST } from './env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface SpawnOptions {
  label: string;
  /** Script path relative to the repository root, run with `node --import tsx`. */
  script: string;
  env?: Record<string, string>;
  /** Node flags before --import tsx (e.g. --cpu-prof, --expose-gc). */
  nodeFlags?: string[];
  /** The line the child prints once it is ready; its first capture group is kept as `ready`. */
  readyPattern: RegExp;
  readyTimeoutMs?: number;
}

/** Every child these benchmarks started and have not seen exit: killed on the way out whatever happens. */
const live = new Set<BenchChild>();

/** One `node --import tsx <script>` child with an IPC channel. */
export class BenchChild {
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  /** The ready line's first capture group (e.g. the listening address). */
  ready = '';
  private log = '';

  private constructor(readonly options: SpawnOptions) {
    this.process = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', options.script], {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    live.add(this);
    const keep = (data: Buffer): void => {
      this.log = (this.log + data.toString()).slice(-20_000);
      if (process.env.BENCH_DEBUG) process.stderr.write(`[${options.label}] ${data.toString()}`);
    };
    this.process.stdout!.on('data', keep);
    this.process.stderr!.on('data', keep);
    this.process.on('error', () => undefined);
    this.exited = new Promise((resolve) =>
      this.process.once('exit', () => {
        live.delete(this);
        resolve();
      }),
    );
  }

  static async start(options: SpawnOptions): Promise<BenchChild> {
    const child = new BenchChild(options);
    try {
      await child.waitReady(options.readyPattern, options.readyTimeoutMs ?? 60_000);
    } catch (error) {
      await child.stop(0);
      throw error;
    }
    return child;
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  output(): string {
    return this.log;
  }

  send(message: unknown): void {
    if (this.running && this.process.connected) this.process.send(message as never);
  }

  /** Resolves with the first IPC message `accept` takes, or rejects after `timeoutMs` or when the child exits. */
  waitMessage<T>(accept: (message: unknown) => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        const value = accept(message);
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`${this.options.label} exited:\n${this.log}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.options.label}: no answer within ${timeoutMs} ms\n${this.log.slice(-2000)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.process.off('message', onMessage);
        this.process.off('exit', onExit);
      };
      this.process.on('message', onMessage);
      this.process.once('exit', onExit);
    });
  }

  /**
   * The child's clock() minus ours (ms), from the IPC ping with the shortest
   * round trip; both read the same system clock, but each process fixes its
   * performance.timeOrigin at start, so they can disagree by a fraction of a ms.
   */
  async clockOffset(rounds = 15): Promise<number> {
    let best = { offset: 0, rtt: Infinity };
    for (let i = 0; i < rounds; i++) {
      const reply = this.waitMessage(
        (m) => ((m as { type?: string }).type === 'pong' ? (m as { at: number }).at : undefined),
        5000,
      );
      const t1 = clock();
      this.send({ type: 'ping' });
      const at = await reply;
      const t2 = clock();
      if (t2 - t1 < best.rtt) best = { offset: at - (t1 + t2) / 2, rtt: t2 - t1 };
    }
    return best.offset;
  }

  /** Current resident set size of the child, from /proc (Linux), in bytes. */
  rssBytes(): number {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
      return kb === undefined ? NaN : Number(kb) * 1024;
    } catch {
      return NaN;
    }
  }

  /** SIGTERM (the children shut down cleanly and write --cpu-prof output), then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return this.exited;
    this.process.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private waitReady(pattern: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(this.log);
        if (!match) return;
        cleanup();
        this.ready = match[1] ?? match[0];
        resolve();
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`${this.options.label} exited before it was ready:\n${this.log}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.options.label} not ready within ${timeoutMs} ms:\n${this.log}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.process.stdout!.off('data', check);
        this.process.off('exit', onExit);
      };
      this.process.stdout!.on('data', check);
      this.process.once('exit', onExit);
      check();
    });
  }
}

/** Stops every child still running (SIGTERM, then SIGKILL). */
export async function stopAllChildren(graceMs = 5000): Promise<void> {
  await Promise.all([...live].map((child) => child.stop(graceMs)));
}

/** Last resort when the bench process itself exits: no child outlives it. */
process.once('exit', () => {
  for (const child of live) if (child.running) child.process.kill('SIGKILL');
});

/** A free TCP port on 127.0.0.1 (the reference app needs its port up front: the worker calls its fake API). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// ---- the children of these benchmarks ----

/** The bench's own web process: Fastify + errandWeb (prefix '') + GET /bench/stats. */
export function startBenchWeb(broker: string, label: string, nodeFlags: string[] = []): Promise<BenchChild> {
  return BenchChild.start({
    label,
    script: 'bench/status/web-child.ts',
    env: { BENCH_BROKER: broker },
    nodeFlags,
    readyPattern: /bench web listening on (http:\/\/\S+)/,
  });
}

/** A worker child running the bench tasks (tasks.ts); 'release' IPC messages open gated tasks. */
export function startBenchWorker(broker: string, label: string, concurrency = 10): Promise<BenchChild> {
  return BenchChild.start({
    label,
    script: 'bench/status/worker-child.ts',
    env: { BENCH_BROKER: broker, BENCH_CONCURRENCY: String(concurrency) },
    readyPattern: /bench worker ready/,
  });
}

/** The reference app's web process (app/web-main.ts) with its environment. */
export function startReferenceWeb(env: Record<string, string>, label: string, nodeFlags: string[] = []): Promise<BenchChild> {
  return BenchChild.start({
    label,
    script: 'app/web-main.ts',
    env: { LOG_LEVEL: 'error', ...env },
    nodeFlags,
    readyPattern: /errand demo web listening on (http:\/\/\S+?)\/? /,
  });
}

/** The reference app's worker process (app/worker.ts). */
export function startReferenceWorker(env: Record<string, string>, label: string): Promise<BenchChild> {
  return BenchChild.start({ label, script: 'app/worker.ts', env, readyPattern: /errand demo worker ready/ });
}
