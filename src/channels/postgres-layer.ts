import { createHash } from 'node:crypto';
import type { Client, Notification } from 'pg';
import { pgDriver } from '../backends/postgres/driver.js';
import { BrokerError, ClosedError, ConfigError } from '../core/errors.js';
import type { ChannelLayerOptions } from './channel-layer.js';
import { PubSubChannelLayer, type PubSubTransport } from './pubsub-layer.js';

export interface PostgresChannelLayerOptions extends ChannelLayerOptions {
  /** postgres://user:pass@host:5432/db */
  url: string;
  /** Prefix of every NOTIFY channel the layer uses, and of its overflow table (default 'errand_channels'). */
  prefix?: string;
  /** Schema of the overflow table (default 'public'). */
  schema?: string;
}

/** NOTIFY payloads are limited to 8000 bytes; larger messages go through a table and only their row id is sent. */
const INLINE_LIMIT = 7800;
/** Overflow rows are kept this long: every listener has read them by then. */
const OVERFLOW_KEEP_SECONDS = 60;
const RECONNECT_MS = [100, 250, 500, 1000, 2000, 5000];
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,30}$/;

/**
 * A channel layer shared by processes through PostgreSQL LISTEN/NOTIFY (see
 * PubSubChannelLayer), for apps that run PostgreSQL and no Redis. NOTIFY
 * channels are identifiers of at most 63 bytes: an inbox is
 * `<prefix>_i_<layerId>`, a group `<prefix>_g_<hash of its name>`. A message
 * too big for a NOTIFY payload is written to `<schema>.<prefix>_overflow`
 * and only its row id is sent. The listening connection reconnects with
 * backoff and LISTENs again; delivery stays at most once.
 */
export class PostgresChannelLayer extends PubSubChannelLayer {
  constructor(options: PostgresChannelLayerOptions) {
    if (!options.url) throw new ConfigError('createPostgresChannelLayer needs a url');
    const prefix = options.prefix ?? 'errand_channels';
    const schema = options.schema ?? 'public';
    if (!IDENTIFIER.test(prefix)) throw new ConfigError(`channel layer prefix "${prefix}" must match ${IDENTIFIER}`);
    if (!IDENTIFIER.test(schema)) throw new ConfigError(`channel layer schema "${schema}" must match ${IDENTIFIER}`);
    super(options, (deliver) => new PostgresTransport(options.url, prefix, `"${schema}"."${prefix}_overflow"`, deliver));
  }
}

class PostgresTransport implements PubSubTransport {
  /** Sends (NOTIFY, the overflow table): a pool, so a dropped connection is simply replaced. */
  private readonly pool;
  private readonly topics = new Set<string>();
  private listener?: Client;
  private listening: Promise<Client>;
  private overflowReady?: Promise<unknown>;
  /** Notifications waiting behind an overflow read, and the chain that delivers them in order. */
  private pending = 0;
  private inOrder: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly table: string,
    private readonly deliver: (topic: string, payload: string) => void,
  ) {
    const { Pool } = pgDriver();
    this.pool = new Pool({ connectionString: url, max: 2 });
    this.pool.on('error', () => undefined); // an idle client dropped: the pool replaces it
    this.listening = this.openListener();
    this.listening.catch(() => undefined); // reported by the first listen()
  }

  inboxTopic(layerId: string): string {
    // layer ids are base64url: case matters, so topics are always quoted
    return `${this.prefix}_i_${layerId}`;
  }

  groupTopic(group: string): string {
    return `${this.prefix}_g_${createHash('sha256').update(group).digest('hex').slice(0, 24)}`;
  }

  async listen(topic: string): Promise<void> {
    this.topics.add(topic);
    const listener = await this.pg(this.listening);
    await this.pg(listener.query(`LISTEN "${topic}"`));
  }

  async unlisten(topic: string): Promise<void> {
    this.topics.delete(topic);
    if (this.listener) await this.pg(this.listener.query(`UNLISTEN "${topic}"`));
  }

  async publish(topic: string, payload: string): Promise<void> {
    if (Buffer.byteLength(payload) <= INLINE_LIMIT) {
      await this.pg(this.pool.query('SELECT pg_notify($1, $2)', [topic, payload]));
      return;
    }
    this.overflowReady ??= this.pool.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
    );
    await this.pg(this.overflowReady);
    await this.pg(
      this.pool.query(
        `WITH row AS (INSERT INTO ${this.table} (body) VALUES ($2) RETURNING id)
         SELECT pg_notify($1, '{"r":' || (SELECT id FROM row) || '}')`,
        [topic, payload],
      ),
    );
    // old overflow rows go as new ones arrive: no timer, no unbounded table
    await this.pg(this.pool.query(`DELETE FROM ${this.table} WHERE at < now() - interval '${OVERFLOW_KEEP_SECONDS} seconds'`));
  }

  async close(): Promise<void> {
    this.closed = true;
    const listener = await Promise.allSettled([this.listening]);
    await Promise.allSettled([this.pool.end(), ...listener.map((c) => (c.status === 'fulfilled' ? c.value.end() : undefined))]);
  }

  /** The LISTEN connection, listening to every topic; reopened with backoff when it drops. */
  private async openListener(): Promise<Client> {
    const { Client: PgClient } = pgDriver();
    const client = new PgClient({ connectionString: this.url });
    client.on('error', () => undefined); // 'end' follows, and reconnects
    try {
      await client.connect();
      if (this.closed) throw new ClosedError('channel layer');
      client.on('notification', (n: Notification) => this.onNotification(n));
      client.on('end', () => {
        if (this.closed || this.listener !== client) return;
        this.listener = undefined;
        this.listening = this.reopen();
        this.listening.catch(() => undefined);
      });
      for (const topic of this.topics) await client.query(`LISTEN "${topic}"`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.listener = client;
    return client;
  }

  private async reopen(): Promise<Client> {
    for (let n = 0; ; n++) {
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS[Math.min(n, RECONNECT_MS.length - 1)]));
      if (this.closed) throw new ClosedError('channel layer');
      try {
        return await this.openListener();
      } catch {
        // try again, more slowly
      }
    }
  }

  /**
   * Hands notifications on in arrival order: an overflow message waits for
   * its row, and whatever arrives after it waits for it (order per topic).
   */
  private onNotification(n: Notification): void {
    const payload = n.payload ?? '';
    const ref = /^\{"r":(\d+)\}$/.exec(payload);
    if (!ref && this.pending === 0) return this.deliver(n.channel, payload);
    this.pending++;
    const body = ref ? this.readOverflow(Number(ref[1])) : Promise.resolve(payload);
    this.inOrder = this.inOrder
      .then(() => body)
      .then((text) => text !== undefined && this.deliver(n.channel, text))
      .finally(() => this.pending--);
  }

  /** A message that came through the overflow table; undefined when its row cannot be read (at most once: it is lost). */
  private async readOverflow(id: number): Promise<string | undefined> {
    try {
      const { rows } = await this.pool.query<{ body: string }>(`SELECT body FROM ${this.table} WHERE id = $1`, [id]);
      return rows[0]?.body;
    } catch {
      return undefined;
    }
  }

  /** Turns pg failures into BrokerError. */
  private async pg<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (error) {
      if (error instanceof ClosedError) throw error;
      throw new BrokerError(`postgres channel layer: ${(error as Error).message}`, { cause: error });
    }
  }
}

export function createPostgresChannelLayer(options: PostgresChannelLayerOptions): PostgresChannelLayer {
  return new PostgresChannelLayer(options);
}
