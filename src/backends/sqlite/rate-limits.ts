import type { RateLimit } from '../../core/backend.js';
import { rateLimitWait, recordRateHit, type RateKeyState } from '../../core/flow-control.js';
import type { ClaimedTask } from '../../core/backend.js';
import type { Db } from './database.js';
import { deliveryParams, RUNNING_SQL } from './rows.js';

interface RateKeyRow {
  hits: string;
  keep_ms: number;
  keep_n: number;
  held_until: number;
}

/**
 * Rate-limit state per key (table rate_keys): read and written inside the
 * claim's write transaction, so claims of every process see each other's
 * hits in order. Only flow-controlled heads with rate limits come here.
 */
export class RateLimitQueries {
  private readonly getStmt;
  private readonly putStmt;
  private readonly holdStmt;
  private readonly ofLiveStmt;

  constructor(db: Db) {
    this.ofLiveStmt = db.prepare<[{ id: string; owner: string; attempt: number }], { rate_limits: string | null }>(
      `SELECT rate_limits FROM tasks WHERE id = @id AND lease_owner = @owner AND attempts = @attempt AND ${RUNNING_SQL}`,
    );
    this.getStmt = db.prepare<[string], RateKeyRow>('SELECT hits, keep_ms, keep_n, held_until FROM rate_keys WHERE key = ?');
    this.putStmt = db.prepare<[{ key: string; hits: string; keepMs: number; keepN: number; heldUntil: number; idleAt: number }]>(
      `INSERT INTO rate_keys (key, hits, keep_ms, keep_n, held_until, idle_at)
       VALUES (@key, @hits, @keepMs, @keepN, @heldUntil, @idleAt)
       ON CONFLICT DO UPDATE SET hits = excluded.hits, keep_ms = excluded.keep_ms, keep_n = excluded.keep_n,
         held_until = excluded.held_until, idle_at = excluded.idle_at`,
    );
    this.holdStmt = db.prepare<[{ key: string; until: number }]>(
      `INSERT INTO rate_keys (key, hits, keep_ms, keep_n, held_until, idle_at) VALUES (@key, '[]', 0, 0, @until, @until)
       ON CONFLICT DO UPDATE SET held_until = max(held_until, @until), idle_at = max(idle_at, @until)`,
    );
  }

  /** The rate limits of a live delivery: undefined when stale, null when it has none. */
  ofLive(task: ClaimedTask): RateLimit[] | null | undefined {
    const row = this.ofLiveStmt.get(deliveryParams(task));
    return row === undefined ? undefined : (this.parse(row.rate_limits) ?? null);
  }

  /** The stored rate_limits column as limits, or undefined (none, or a raw client's garbage: no limit to keep). */
  parse(json: string | null): RateLimit[] | undefined {
    if (json === null) return undefined;
    try {
      const limits = JSON.parse(json) as unknown;
      return Array.isArray(limits) && limits.length > 0 ? (limits as RateLimit[]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** ms until a task with these limits may be claimed at `now` (0: at once). */
  wait(limits: readonly RateLimit[], now: number): number {
    const states = new Map<string, RateKeyState | undefined>();
    return rateLimitWait(limits, (key) => (states.has(key) ? states.get(key) : this.read(key, states)), now);
  }

  /** Records a claim at `now` of a task with these limits. */
  hit(limits: readonly RateLimit[], now: number): void {
    const states = new Map<string, RateKeyState | undefined>();
    const state = (key: string): RateKeyState => {
      const s = states.has(key) ? states.get(key) : this.read(key, states);
      if (s !== undefined) return s;
      const fresh = { hits: [], keepMs: 0, keepN: 0, heldUntil: 0 };
      states.set(key, fresh);
      return fresh;
    };
    for (const key of recordRateHit(limits, state, now)) {
      const s = state(key);
      const last = s.hits.at(-1) ?? now;
      this.putStmt.run({
        key,
        hits: JSON.stringify(s.hits),
        keepMs: s.keepMs,
        keepN: s.keepN,
        heldUntil: s.heldUntil,
        idleAt: Math.max(last + s.keepMs, s.heldUntil),
      });
    }
  }

  /** Blocks these keys until `until` (a longer hold wins). */
  hold(limits: readonly RateLimit[], until: number): void {
    for (const key of new Set(limits.map((l) => l.key))) this.holdStmt.run({ key, until });
  }

  private read(key: string, states: Map<string, RateKeyState | undefined>): RateKeyState | undefined {
    const row = this.getStmt.get(key);
    let state: RateKeyState | undefined;
    if (row !== undefined) {
      let hits: unknown;
      try {
        hits = JSON.parse(row.hits);
      } catch {
        hits = [];
      }
      state = {
        hits: Array.isArray(hits) ? hits.filter((h): h is number => typeof h === 'number') : [],
        keepMs: row.keep_ms,
        keepN: row.keep_n,
        heldUntil: row.held_until,
      };
    }
    states.set(key, state);
    return state;
  }
}
