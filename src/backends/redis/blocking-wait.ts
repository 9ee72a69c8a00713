import type { Redis, RedisOptions } from 'ioredis';
import { dropIfMoved, type RedisClient } from './cluster.js';
import type { RedisKeys } from './keys.js';
import { waitAny } from './wait-any.js';

/** What the blocking wait needs of the backend that owns the connections. */
export interface BlockingWaitHost {
  readonly keys: RedisKeys;
  /**
   * Where CLIENT UNBLOCK for `conn` goes out: the command connection, or on
   * a cluster the Cluster's connection to the node `conn` is connected to.
   */
  commandFor(conn: Redis): RedisClient;
  /** Aborts when the backend closes. */
  readonly closing: AbortSignal;
  connect(role: string, extra: RedisOptions): Redis;
}

/**
 * Waiting for a claim's wake-up on a connection of its own: BZPOPMIN on the
 * per-queue wake tokens, interrupted with CLIENT UNBLOCK from the command
 * connection (or by dropping the connection). Overlapping claims of one
 * backend share one wait.
 */
export class BlockingWait {
  private conn?: Redis;
  private clientId?: number;
  /** The current wait, shared by overlapping claims. */
  private current?: Promise<void>;

  constructor(private readonly host: BlockingWaitHost) {}

  /**
   * Waits until a wake token of one of `queues` is set (an enqueue, a retry
   * or a release made a ready list non-empty, or moved the next due time
   * earlier), `ms` pass, `signal` aborts or the backend closes. The token is
   * only a hint: the caller runs the claim script again, so a token lost with
   * a connection costs at most one wait.
   */
  async wait(queues: string[], ms: number, signal?: AbortSignal): Promise<void> {
    if (this.host.closing.aborted || signal?.aborted) return;
    if (this.current || queues.length === 0) {
      // An overlapping claim holds the blocking connection: wait for its
      // wake-up (then both look again), the time or the signal.
      await waitAny(ms, [signal, this.host.closing], this.current);
      return;
    }
    const wait = this.block(queues, ms, signal);
    this.current = wait;
    try {
      await wait;
    } finally {
      if (this.current === wait) this.current = undefined;
    }
  }

  /** Ends a pending wait at once (the backend closes: blocked claims fail and throw ClosedError). */
  disconnect(): void {
    this.conn?.disconnect();
  }

  private async block(queues: string[], ms: number, signal?: AbortSignal): Promise<void> {
    let conn: Redis;
    let clientId: number;
    try {
      conn = this.connection();
      clientId = await this.idOf(conn);
    } catch {
      if (!this.host.closing.aborted) await waitAny(Math.min(ms, 100), [signal, this.host.closing]);
      return;
    }
    let settled = false;
    let failed = false;
    // Redis checks blocking timeouts only every 100 ms (hz 10): the exact
    // bound is a local timer; the server-side timeout is a safety net.
    const popped = conn.bzpopmin(...queues.map((q) => this.host.keys.wake(q)), Math.ceil(ms / 1000) + 1).then(
      () => {
        settled = true;
      },
      (error: unknown) => {
        settled = true;
        failed = true;
        dropIfMoved(conn, error);
      },
    );
    await waitAny(ms, [signal, this.host.closing], popped);
    if (!settled) await this.unblock(conn, clientId, popped, () => settled);
    if (failed && !this.host.closing.aborted && !signal?.aborted) {
      await waitAny(Math.min(ms, 100), [signal, this.host.closing]);
    }
  }

  /** Ends a pending BZPOPMIN: CLIENT UNBLOCK from the command connection, else drop the connection. */
  private async unblock(conn: Redis, clientId: number, popped: Promise<void>, settled: () => boolean): Promise<void> {
    for (let i = 0; i < 20 && !settled() && !this.host.closing.aborted; i++) {
      const n = await this.host
        .commandFor(conn)
        .client('UNBLOCK', clientId)
        .catch(() => -1);
      if (n === 1) break;
      // 0: the command has not reached the server yet (or just completed)
      await waitAny(5, [], popped);
    }
    if (!settled()) {
      conn.disconnect();
      if (this.conn === conn) {
        this.conn = undefined;
        this.clientId = undefined;
      }
    }
    await popped;
  }

  private connection(): Redis {
    if (!this.conn) {
      const conn = this.host.connect('block', { maxRetriesPerRequest: 1 });
      conn.on('close', () => {
        if (this.conn === conn) this.clientId = undefined;
      });
      this.conn = conn;
    }
    return this.conn;
  }

  private async idOf(conn: Redis): Promise<number> {
    if (this.clientId === undefined) {
      const id = Number(await conn.client('ID'));
      if (this.conn === conn) this.clientId = id;
      return id;
    }
    return this.clientId;
  }
}
