import type { Client, ClientConfig, Notification, Pool } from 'pg';
import { pgDriver, quoteIdent } from '../backends/postgres/driver.js';
import { ClosedError, ConfigError, PayloadTooLargeError } from '../core/errors.js';
import { OverflowTable } from './postgres-overflow.js';
import { brokerError, reconnectDelay, type DeliveryMeta, type PubSub, type PubSubHandlers } from './pubsub.js';

export interface PostgresPubSubOptions extends PubSubHandlers {
  /** Settings of the LISTEN connection and of the publishing pool (connectionString, types…). */
  config: ClientConfig;
  /** application_name of the LISTEN connection, as pg_stat_activity shows it. */
  applicationName: string;
  /**
   * Quoted, schema-qualified table ("schema"."table") for payloads over
   * NOTIFY's limit. Without one, publish refuses them with PayloadTooLargeError.
   */
  overflowTable?: string;
  /** Names the pub/sub in errors (default 'postgres pub/sub'). */
  name?: string;
}

/** NOTIFY payloads must stay under 8000 bytes. */
export const NOTIFY_LIMIT = 7800;
/** NOTIFY channels are identifiers: longer ones would be cut, and mix. */
const TOPIC_BYTES = 63;

/**
 * Pub/sub over LISTEN/NOTIFY. One connection LISTENs on every topic; it is
 * opened by the first listen(), and when it drops (a restart,
 * pg_terminate_backend) it is opened again by the reconnect rule and
 * LISTENs on every topic before onReconnect. While the rule waits after a
 * failed attempt, listen() rejects at once with that attempt's error (the
 * timer tries again) instead of adding attempts of its own. Publishing goes
 * through a small pool, so a dropped connection is simply replaced.
 * Notifications carry the sender's server pid (DeliveryMeta.senderPid) and
 * are delivered in arrival order, also around payloads that must first be
 * read from the overflow table.
 */
export class PostgresPubSub implements PubSub {
  private readonly topics = new Set<string>();
  /** The LISTEN connection, once connected and listening; and what it LISTENs on. */
  private client?: Client;
  private listened = new Set<string>();
  private connecting?: Promise<Client>;
  private retryTimer?: NodeJS.Timeout;
  /** Attempts since the connection was last up (the reconnect rule's attempt), and whether it went down. */
  private attempts = 0;
  private down = false;
  private lastError?: Error;
  private pool?: Pool;
  private readonly overflow?: OverflowTable;
  /** Notifications waiting behind an overflow read, and the chain that delivers them in order. */
  private pending = 0;
  private inOrder: Promise<unknown> = Promise.resolve();
  private closing?: Promise<void>;
  private readonly name: string;

  constructor(private readonly options: PostgresPubSubOptions) {
    this.name = options.name ?? 'postgres pub/sub';
    if (options.overflowTable !== undefined) this.overflow = new OverflowTable(options.overflowTable);
  }

  /** Whether the LISTEN connection is up. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  async listen(topic: string): Promise<void> {
    this.assertOpen();
    checkTopic(topic);
    this.topics.add(topic);
    const client = await this.connection();
    if (this.listened.has(topic)) return;
    await this.run('listen', client.query(`LISTEN ${quoteIdent(topic)}`));
    if (client === this.client) this.listened.add(topic);
  }

  async unlisten(topic: string): Promise<void> {
    this.topics.delete(topic);
    const client = this.client;
    if (!client || !this.listened.delete(topic) || this.closing) return;
    await this.run('unlisten', client.query(`UNLISTEN ${quoteIdent(topic)}`));
  }

  async publish(topic: string, payload: string): Promise<void> {
    this.assertOpen();
    checkTopic(topic);
    const pool = this.publisher();
    const bytes = Buffer.byteLength(payload);
    if (this.overflow && (bytes > NOTIFY_LIMIT || this.overflow.looksLikeRef(payload))) {
      await this.run('publish', this.overflow.publish(pool, topic, payload));
      return;
    }
    if (bytes > NOTIFY_LIMIT) throw new PayloadTooLargeError('a NOTIFY payload', bytes, NOTIFY_LIMIT);
    await this.run('publish', pool.query('SELECT pg_notify($1, $2)', [topic, payload]));
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.topics.clear();
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
    await this.pool?.end().catch(() => undefined);
  }

  private publisher(): Pool {
    if (!this.pool) {
      this.pool = new (pgDriver().Pool)({ ...this.options.config, max: 2 });
      this.pool.on('error', () => undefined); // an idle client dropped: the pool replaces it
    }
    return this.pool;
  }

  /** The LISTEN connection: the one up, the attempt under way, or a new attempt (not while the rule waits). */
  private connection(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    if (this.retryTimer && this.lastError) return Promise.reject(this.lastError);
    return this.connect();
  }

  private connect(): Promise<Client> {
    const attempt = this.open();
    this.connecting = attempt;
    const settled = (): void => {
      if (this.connecting === attempt) this.connecting = undefined;
    };
    attempt.then(settled, settled);
    return attempt;
  }

  /** Connects and LISTENs on every topic (also those listened meanwhile: a Set's iteration sees them). */
  private async open(): Promise<Client> {
    const client = new (pgDriver().Client)({ ...this.options.config, application_name: this.options.applicationName });
    client.on('error', () => this.dropped(client)); // 'end' follows too
    client.on('end', () => this.dropped(client));
    client.on('notification', (n: Notification) => this.onNotification(n));
    const listened = new Set<string>();
    try {
      await client.connect();
      for (const topic of this.topics) {
        await client.query(`LISTEN ${quoteIdent(topic)}`);
        listened.add(topic);
      }
      if (this.closing) throw new ClosedError(this.name);
    } catch (error) {
      client.removeAllListeners('end');
      void client.end().catch(() => undefined);
      if (this.closing) throw new ClosedError(this.name);
      this.down = true;
      this.lastError = brokerError(this.name, 'listen', error);
      this.scheduleRetry();
      throw this.lastError;
    }
    this.client = client;
    this.listened = listened;
    this.attempts = 0;
    this.lastError = undefined;
    if (this.down) {
      this.down = false;
      this.options.onReconnect?.();
    }
    return client;
  }

  private dropped(client: Client): void {
    if (this.client !== client) return; // an attempt under way reports its own failure
    this.client = undefined;
    this.listened = new Set();
    this.down = true;
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closing || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // with nothing to listen to, the next listen() connects
      if (this.closing || this.client || this.connecting || this.topics.size === 0) return;
      this.connect().catch(() => undefined); // a failed attempt schedules the next one
    }, reconnectDelay(this.attempts++));
    this.retryTimer.unref();
  }

  /**
   * Hands notifications on in arrival order: one whose payload is in the
   * overflow table waits for its row, and whatever arrives after it waits
   * for it.
   */
  private onNotification(n: Notification): void {
    if (!this.topics.has(n.channel)) return;
    const meta: DeliveryMeta = { senderPid: n.processId };
    const payload = n.payload ?? '';
    const ref = this.overflow?.refOf(payload);
    if (ref === undefined && this.pending === 0) return this.options.deliver(n.channel, payload, meta);
    this.pending++;
    const body = ref === undefined ? Promise.resolve(payload) : this.overflow!.read(this.publisher(), ref);
    this.inOrder = this.inOrder
      .then(() => body)
      .then((text) => {
        if (text !== undefined && this.topics.has(n.channel)) this.options.deliver(n.channel, text, meta);
      })
      .catch(() => undefined)
      .finally(() => this.pending--);
  }

  private async run<T>(what: string, operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (error) {
      if (this.closing) throw new ClosedError(this.name);
      throw brokerError(this.name, what, error);
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new ClosedError(this.name);
  }
}

function checkTopic(topic: string): void {
  const bytes = Buffer.byteLength(topic);
  if (bytes === 0 || bytes > TOPIC_BYTES) {
    throw new ConfigError(`a PostgreSQL pub/sub topic must be 1-${TOPIC_BYTES} bytes: "${topic}" is ${bytes}`);
  }
}
