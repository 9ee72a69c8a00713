import { fromWire, type FromRunner, type RunnerInit } from './isolate-protocol.js';
import { startRunner, type IsolateMode, type Runner } from './runner.js';

/** What a job hears from its runner. */
export interface JobListener {
  progress(message: Extract<FromRunner, { type: 'progress' }>): void;
  done(value: unknown): void;
  failed(error: Error): void;
  /** The runner died under the job (killed, crashed, exited). */
  died(reason: string): void;
}

const START_TIMEOUT_MS = 30_000;

/** A started runner and the one job it runs at a time. */
export class PooledRunner {
  private job?: JobListener;
  private dead = false;
  private killed = false;
  readonly ready: Promise<void>;

  constructor(
    private readonly runner: Runner,
    private readonly onDeath: (self: PooledRunner) => void,
  ) {
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the isolated handler did not start within ${START_TIMEOUT_MS} ms`));
        this.kill();
      }, START_TIMEOUT_MS);
      timer.unref();
      runner.onMessage((message) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (message.type === 'broken') {
          clearTimeout(timer);
          reject(fromWire(message.error));
          this.kill();
        } else this.route(message);
      });
      runner.onExit((reason) => {
        clearTimeout(timer);
        reject(new Error(`the isolated handler did not start: ${reason}`));
        this.die(reason);
      });
    });
    this.ready.catch(() => {});
  }

  get alive(): boolean {
    return !this.dead && !this.killed;
  }

  start(job: JobListener, message: Parameters<Runner['send']>[0]): void {
    this.job = job;
    this.runner.send(message);
  }

  send(message: Parameters<Runner['send']>[0]): void {
    this.runner.send(message);
  }

  /** Ends the runner at once (hard time limit, revoke, shutdown); its job hears died(). */
  kill(): void {
    this.killed = true;
    this.runner.kill();
  }

  private route(message: FromRunner): void {
    const job = this.job;
    if (!job) return;
    if (message.type === 'progress') return job.progress(message);
    this.job = undefined;
    if (message.type === 'done') job.done(message.value);
    else if (message.type === 'failed') job.failed(fromWire(message.error));
  }

  private die(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    const job = this.job;
    this.job = undefined;
    job?.died(reason);
    this.onDeath(this);
  }
}

/** Warm runners of one handler: reused between attempts, replaced when killed. */
export class RunnerPool {
  private readonly idle: PooledRunner[] = [];
  private readonly all = new Set<PooledRunner>();
  private closed = false;

  constructor(
    private readonly mode: IsolateMode,
    private readonly init: RunnerInit,
    /** Idle runners kept warm at most. */
    private readonly maxIdle = 4,
  ) {}

  /** A ready runner: an idle one, or a new one once it has loaded the handler. */
  async acquire(): Promise<PooledRunner> {
    if (this.closed) throw new Error('the isolated handler pool is closed');
    while (this.idle.length > 0) {
      const runner = this.idle.pop()!;
      if (runner.alive) return runner;
    }
    const runner = new PooledRunner(startRunner(this.mode, this.init), (dead) => this.forget(dead));
    this.all.add(runner);
    await runner.ready;
    return runner;
  }

  release(runner: PooledRunner): void {
    if (!runner.alive) return;
    if (this.closed || this.idle.length >= this.maxIdle) {
      runner.kill();
      return;
    }
    this.idle.push(runner);
  }

  close(): void {
    this.closed = true;
    this.idle.length = 0;
    for (const runner of this.all) runner.kill();
  }

  private forget(runner: PooledRunner): void {
    this.all.delete(runner);
    const i = this.idle.indexOf(runner);
    if (i >= 0) this.idle.splice(i, 1);
  }
}
