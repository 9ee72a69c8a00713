import type { Pool } from 'pg';

/** Overflow rows are kept this long: every listener has read them by then. */
const KEEP_SECONDS = 60;
/** What a NOTIFY carries for a payload in the table: its row id. */
const REF = /^\{"r":(\d+)\}$/;

/**
 * Payloads too big for a NOTIFY: the body is written to a table and only
 * its row id is notified; listeners read the row. The table is created on
 * first use, and rows older than a minute go as new ones arrive (no timer,
 * no unbounded table).
 */
export class OverflowTable {
  private created?: Promise<unknown>;

  /** @param table the quoted, schema-qualified name ("schema"."table"). */
  constructor(private readonly table: string) {}

  /** The row a NOTIFY payload stands for, or undefined when it is a payload of its own. */
  refOf(payload: string): number | undefined {
    const match = REF.exec(payload);
    return match ? Number(match[1]) : undefined;
  }

  /** A payload that could be taken for a row reference must go through the table too. */
  looksLikeRef(payload: string): boolean {
    return REF.test(payload);
  }

  async publish(pool: Pool, topic: string, payload: string): Promise<void> {
    this.created ??= pool
      .query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
      )
      .catch((error: unknown) => {
        this.created = undefined; // the next publish tries again
        throw error;
      });
    await this.created;
    await pool.query(
      `WITH row AS (INSERT INTO ${this.table} (body) VALUES ($2) RETURNING id)
       SELECT pg_notify($1, '{"r":' || (SELECT id FROM row) || '}')`,
      [topic, payload],
    );
    await pool.query(`DELETE FROM ${this.table} WHERE at < now() - interval '${KEEP_SECONDS} seconds'`);
  }

  /** A row's body; undefined when it cannot be read (at most once: that message is lost). */
  async read(pool: Pool, id: number): Promise<string | undefined> {
    try {
      const { rows } = await pool.query<{ body: string }>(`SELECT body FROM ${this.table} WHERE id = $1`, [id]);
      return rows[0]?.body;
    } catch {
      return undefined;
    }
  }
}
