import type { Client, ClientConfig, Notification } from 'pg';
import { pgDriver } from './driver.js';

/**
 * The one dedicated connection that LISTENs on the schema's channel. It
 * connects on first use and, when the connection drops (a restart, a
 * pg_terminate_backend), reconnects with a backoff of 100 ms doubling to 2 s,
 * then calls `onReconnect` (what was notified meanwhile is lost: the owner
 * re-reads and re-checks).
 */
export class NotificationListener {
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  /** Whether the last connect succeeded and the connection has not dropped since. */
  connected = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    /** A notification on the channel, with the server process id of the session that sent it. */
    private readonly onNotify: (payload: string, pid: number) => void,
    private readonly onReconnect: () => void,
    /** application_name of the connection (pg_stat_activity shows it). */
    private readonly name = 'errand:listen',
  ) {}

  /** Resolves once listening, or once a connect attempt failed (the fallback poll covers it meanwhile). */
  ready(): Promise<void> {
    if (this.closed || this.connected) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.connecting?.catch(() => {});
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    if (client) await client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new (pgDriver().Client)({ ...this.config, application_name: this.name });
    client.on('error', () => this.dropped(client));
    client.on('end', () => this.dropped(client));
    client.on('notification', (message: Notification) => {
      if (message.channel === this.channel) this.onNotify(message.payload ?? '', message.processId);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch {
      this.dropped(client);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    const wasDown = this.failures > 0;
    this.failures = 0;
    this.connected = true;
    if (wasDown) this.onReconnect();
  }

  private dropped(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.connected = false;
    client.removeAllListeners('end');
    client.on('error', () => {});
    void client.end().catch(() => {});
    if (this.closed || this.retryTimer) return;
    const delay = Math.min(2000, 100 * 2 ** this.failures++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) void this.ready();
    }, delay);
    this.retryTimer.unref();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
