import type { PoolClient, QueryResultRow } from 'pg';
import type { NewTask, RateLimit } from '../../core/backend.js';
import { rateLimitWait, type RateKeyState, recordRateHit } from '../../core/flow-control.js';
import { LOCK_FLOW } from './migrations.js';
import { CLAIMABLE_SQL, LEASE_SET_SQL, RUNNING_SQL, TASK_COLUMNS } from './rows.js';

/** The client the fair claim runs on (inside the claim's transaction). */
type FlowClient = PoolClient;

/** What a lease statement needs besides the task: the claim's parameters. */
export interface LeaseParams {
  now: number;
  owner: string;
  leaseUntil: number;
  purgeAt: number;
  expiredError: string;
}

interface Head {
  seq: number | string;
  run_at: number | string;
  limits: string | null;
  rate_limits: string | null;
}

/** Whether a task is flow-controlled (NewTask.group or NewTask.limits): it then has a fair_group ('' without a group). */
export function isFlow(task: NewTask): boolean {
  return (
    task.group !== undefined ||
    (task.limits !== undefined && task.limits.length > 0) ||
    (task.rateLimits !== undefined && task.rateLimits.length > 0)
  );
}

/** fair_group, limits, limit_key1..4, rate_limits of a task (all NULL for a plain one). */
export function flowColumns(task: NewTask): Array<string | null> {
  if (!isFlow(task)) return [null, null, null, null, null, null, null];
  const limits = task.limits ?? [];
  const rates = task.rateLimits ?? [];
  const keys = [0, 1, 2, 3].map((i) => limits[i]?.key ?? null);
  return [
    task.group ?? '',
    limits.length > 0 ? JSON.stringify(limits.map(({ key, limit }) => ({ key, limit }))) : null,
    ...keys,
    rates.length > 0 ? JSON.stringify(rates.map(({ key, limit, perMs }) => ({ key, limit, perMs }))) : null,
  ];
}

/** The stored rate_limits column as limits, or undefined (none, or a raw client's garbage: no limit to keep). */
export function parseRateLimits(json: string | null): RateLimit[] | undefined {
  if (json === null) return undefined;
  try {
    const limits = JSON.parse(json) as unknown;
    return Array.isArray(limits) && limits.length > 0 ? (limits as RateLimit[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Groups read per statement as a lane is walked in turn order. */
const TURNS_PAGE = 32;
/** Above every priority. */
const TOP = 1_000_000_000;

/** The statements of the fair claim (and of a flow-controlled enqueue), for the schema `S` (quoted). */
export function flowQueries(S: string) {
  const FAIR = `queue = $1 AND ${CLAIMABLE_SQL} AND fair_group IS NOT NULL`;
  const PLAIN = `queue = $1 AND ${CLAIMABLE_SQL} AND fair_group IS NULL`;
  const nextTurn = `(SELECT coalesce(max(turn), 0) + 1 FROM ${S}.fair_turns WHERE queue = $1 AND priority = $2)`;
  const runningKey = (n: number) =>
    `(SELECT count(*) FROM ${S}.tasks WHERE limit_key${n} = $1 AND limit_key${n} IS NOT NULL AND ${RUNNING_SQL})`;
  return {
    lock: `SELECT pg_advisory_xact_lock(${LOCK_FLOW}, hashtext($1::text))`,
    /** Queues among $1 with flow-controlled tasks waiting (an index probe each). */
    active: `SELECT q.name FROM unnest($1::text[]) AS q(name)
      WHERE EXISTS (SELECT 1 FROM ${S}.tasks WHERE queue = q.name AND ${CLAIMABLE_SQL} AND fair_group IS NOT NULL)`,
    paused: `SELECT 1 FROM ${S}.paused_queues WHERE queue = $1`,
    /** The highest priority below $2 with a waiting task (fair or plain) in queue $1. */
    top: `SELECT greatest(
        (SELECT priority FROM ${S}.tasks WHERE ${FAIR} AND priority < $2 ORDER BY priority DESC LIMIT 1),
        (SELECT priority FROM ${S}.tasks WHERE ${PLAIN} AND priority < $2 ORDER BY priority DESC LIMIT 1)) AS p`,
    turns: `SELECT fair_group, turn FROM ${S}.fair_turns WHERE queue = $1 AND priority = $2 AND turn > $3
      ORDER BY turn LIMIT ${TURNS_PAGE}`,
    hasTurn: `SELECT 1 FROM ${S}.fair_turns WHERE queue = $1 AND priority = $2 AND fair_group = ''`,
    plainWaits: `SELECT 1 FROM ${S}.tasks WHERE ${PLAIN} AND priority = $2 LIMIT 1`,
    groupHead: `SELECT seq, run_at, limits, rate_limits FROM ${S}.tasks WHERE ${FAIR} AND priority = $2 AND fair_group = $3
      ORDER BY run_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
    plainHead: `SELECT seq, run_at, NULL AS limits, NULL AS rate_limits FROM ${S}.tasks WHERE ${PLAIN} AND priority = $2
      ORDER BY run_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
    groupRuns: `SELECT 1 FROM ${S}.tasks WHERE queue = $1 AND priority = $2 AND fair_group = $3 AND fair_group IS NOT NULL
      AND ${RUNNING_SQL} LIMIT 1`,
    /** Running tasks holding key $1, whichever of the 4 limit columns holds it. */
    running: `SELECT ${[1, 2, 3, 4].map(runningKey).join(' + ')} AS n`,
    /** The group goes to the back of its lane's rotation. */
    served: `INSERT INTO ${S}.fair_turns (queue, priority, fair_group, turn) VALUES ($1, $2, $3, ${nextTurn})
      ON CONFLICT (queue, priority, fair_group) DO UPDATE SET turn = excluded.turn`,
    rateKeys: `SELECT key, hits, keep_ms, keep_n, held_until FROM ${S}.rate_keys WHERE key = ANY($1::text[])`,
    putRateKey: `INSERT INTO ${S}.rate_keys (key, hits, keep_ms, keep_n, held_until, idle_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (key) DO UPDATE SET hits = excluded.hits, keep_ms = excluded.keep_ms, keep_n = excluded.keep_n,
        held_until = excluded.held_until, idle_at = excluded.idle_at`,
    /** holdRateLimit: key $1 blocked until $2 (a longer hold wins). */
    holdRateKey: `INSERT INTO ${S}.rate_keys (key, hits, keep_ms, keep_n, held_until, idle_at) VALUES ($1, '[]', 0, 0, $2, $2)
      ON CONFLICT (key) DO UPDATE SET held_until = greatest(${S}.rate_keys.held_until, $2), idle_at = greatest(${S}.rate_keys.idle_at, $2)`,
    /** The rate limits of a live delivery ($1 id, $2 owner, $3 attempt), its row locked. */
    liveRates: `SELECT rate_limits FROM ${S}.tasks WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND ${RUNNING_SQL} FOR UPDATE`,
    dropTurn: `DELETE FROM ${S}.fair_turns WHERE queue = $1 AND priority = $2 AND fair_group = $3`,
    /** Enqueue (before the insert): the group joins at the back, unless tasks of it wait already. */
    join: `INSERT INTO ${S}.fair_turns (queue, priority, fair_group, turn) VALUES ($1, $2, $3, ${nextTurn})
      ON CONFLICT (queue, priority, fair_group) DO UPDATE SET turn = excluded.turn
      WHERE NOT EXISTS (SELECT 1 FROM ${S}.tasks WHERE ${FAIR} AND priority = $2 AND fair_group = $3)`,
    /** Tasks $1 run again (BackendAdmin.retryTasks): their groups back in the rotation if they left. */
    rejoin: `INSERT INTO ${S}.fair_turns (queue, priority, fair_group, turn)
      SELECT g.queue, g.priority, g.fair_group,
        (SELECT coalesce(max(turn), 0) FROM ${S}.fair_turns f WHERE f.queue = g.queue AND f.priority = g.priority)
          + row_number() OVER (PARTITION BY g.queue, g.priority ORDER BY g.fair_group)
      FROM (SELECT DISTINCT queue, priority, fair_group FROM ${S}.tasks WHERE id = ANY($1::text[]) AND fair_group IS NOT NULL) g
      ON CONFLICT DO NOTHING`,
    /**
     * The groups of queues $1 with tasks waiting but no turn (a turn dropped
     * while a task of it was still being written elsewhere): back in the
     * rotation. Run only by a flow claim that found nothing.
     */
    repair: `INSERT INTO ${S}.fair_turns (queue, priority, fair_group, turn)
      SELECT g.queue, g.priority, g.fair_group,
        (SELECT coalesce(max(turn), 0) FROM ${S}.fair_turns f WHERE f.queue = g.queue AND f.priority = g.priority)
          + row_number() OVER (PARTITION BY g.queue, g.priority ORDER BY g.fair_group)
      FROM (SELECT DISTINCT queue, priority, fair_group FROM ${S}.tasks t
        WHERE queue = ANY($1::text[]) AND ${CLAIMABLE_SQL} AND fair_group IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM ${S}.fair_turns f
            WHERE f.queue = t.queue AND f.priority = t.priority AND f.fair_group = t.fair_group)) g
      ON CONFLICT DO NOTHING`,
    /** One waiting task (by seq, locked) leased or, expired before it started, REVOKED; $3 its queue's place. */
    lease: `UPDATE ${S}.tasks t SET ${LEASE_SET_SQL}
      WHERE t.seq = $1 AND t.${CLAIMABLE_SQL}
      RETURNING $3::int AS p_ord, t.priority AS p_pri, t.run_at AS p_due, t.seq, ${TASK_COLUMNS.split(',')
        .map((c) => `t.${c.trim()}`)
        .join(', ')}`,
  };
}

export type FlowSql = ReturnType<typeof flowQueries>;

/**
 * The claim of one flow-active queue (NewTask.group, limits), inside the
 * claim's transaction, under the schema's flow lock (so a key's running
 * count cannot change under it by another claim, and the rotation is one):
 * index probes, one per group head. Priority lanes highest first; in a lane
 * the groups by turn (fair_turns), each group's due head leased unless its
 * limits are full (then the group waits, the others go on). Tasks without a
 * group are the '' group: flow-controlled ones in tasks_fair, plain ones in
 * tasks_ready. Pushes the leased (or expired) rows; true when a due head
 * was held back by its limits.
 */
export async function takeFair<R extends QueryResultRow>(
  client: FlowClient,
  sql: FlowSql,
  queue: string,
  ord: number,
  limit: number,
  lease: LeaseParams,
  rows: R[],
  state: FlowState,
): Promise<void> {
  if ((await client.query(sql.paused, [queue])).rows.length > 0) return;
  for (let below = TOP; rows.length < limit;) {
    const top = (await client.query<{ p: number | null }>(sql.top, [queue, below])).rows[0]?.p;
    if (top === null || top === undefined) break;
    await lane(client, sql, queue, ord, Number(top), limit, lease, rows, state);
    below = Number(top);
  }
}

/** What held a claim back: a due head over its limits or rate limits, and when the earliest rate-limited one may go. */
export interface FlowState {
  blocked: boolean;
  readyAt: number;
}

async function lane<R extends QueryResultRow>(
  client: FlowClient,
  sql: FlowSql,
  queue: string,
  ord: number,
  priority: number,
  limit: number,
  lease: LeaseParams,
  rows: R[],
  state: FlowState,
): Promise<void> {
  const one = async (text: string, values: unknown[]) => (await client.query(text, values)).rows.length > 0;
  // plain tasks never write fair_turns (they pay nothing): their '' group joins here
  if (!(await one(sql.hasTurn, [queue, priority])) && (await one(sql.plainWaits, [queue, priority])))
    await client.query(sql.served, [queue, priority, '']);
  for (let after = 0; rows.length < limit;) {
    const page = (await client.query<{ fair_group: string; turn: number | string }>(sql.turns, [queue, priority, after])).rows;
    if (page.length === 0) break;
    for (const { fair_group: group, turn } of page) {
      if (rows.length >= limit) break;
      after = Number(turn);
      // an expired head is revoked and the group's next one looked at
      while (rows.length < limit) {
        const head = await groupHead(client, sql, queue, priority, group);
        if (head === undefined) {
          // nothing waiting: the group leaves the rotation unless a task of it runs (it may come back)
          if (!(await one(sql.groupRuns, [queue, priority, group]))) await client.query(sql.dropTurn, [queue, priority, group]);
        } else if (Number(head.run_at) > lease.now) {
          // not due (the group's earliest is not): the group waits, the others go on
        } else if (head.limits !== null && !(await fits(client, sql, head.limits))) {
          state.blocked = true;
        } else {
          const rates = parseRateLimits(head.rate_limits);
          const keys = rates === undefined ? undefined : await rateStates(client, sql, rates);
          const wait = rates === undefined ? 0 : rateLimitWait(rates, (key) => keys!.get(key), lease.now);
          if (wait > 0) {
            state.blocked = true;
            state.readyAt = Math.min(state.readyAt, lease.now + wait);
            break;
          }
          const leased = (
            await client.query<R & { state: string }>(sql.lease, [
              head.seq,
              lease.now,
              ord,
              lease.owner,
              lease.leaseUntil,
              lease.purgeAt,
              lease.expiredError,
            ])
          ).rows[0];
          if (leased !== undefined) {
            rows.push(leased);
            if (leased.state !== 'STARTED') continue;
            if (rates !== undefined) await rateHit(client, sql, rates, keys!, lease.now);
            await client.query(sql.served, [queue, priority, group]);
          }
        }
        break;
      }
    }
  }
}

/** The rate_keys rows of these limits' keys (read under the flow lock). */
async function rateStates(client: FlowClient, sql: FlowSql, limits: readonly RateLimit[]): Promise<Map<string, RateKeyState>> {
  const keys = [...new Set(limits.map((l) => l.key))];
  const { rows } = await client.query<{ key: string; hits: string; keep_ms: number; keep_n: number; held_until: number }>(
    sql.rateKeys,
    [keys],
  );
  const states = new Map<string, RateKeyState>();
  for (const row of rows) {
    let hits: unknown;
    try {
      hits = JSON.parse(row.hits);
    } catch {
      hits = [];
    }
    states.set(row.key, {
      hits: Array.isArray(hits) ? hits.filter((h): h is number => typeof h === 'number') : [],
      keepMs: Number(row.keep_ms),
      keepN: Number(row.keep_n),
      heldUntil: Number(row.held_until),
    });
  }
  return states;
}

/** Records a claim at `now` of a task with these rate limits, once per key. */
async function rateHit(
  client: FlowClient,
  sql: FlowSql,
  limits: readonly RateLimit[],
  states: Map<string, RateKeyState>,
  now: number,
): Promise<void> {
  const state = (key: string): RateKeyState => {
    let s = states.get(key);
    if (s === undefined) states.set(key, (s = { hits: [], keepMs: 0, keepN: 0, heldUntil: 0 }));
    return s;
  };
  for (const key of recordRateHit(limits, state, now)) {
    const s = state(key);
    const last = s.hits.at(-1) ?? now;
    await client.query(sql.putRateKey, [
      key,
      JSON.stringify(s.hits),
      s.keepMs,
      s.keepN,
      s.heldUntil,
      Math.max(last + s.keepMs, s.heldUntil),
    ]);
  }
}

/** The group's first waiting task in due order ('' also holds the plain tasks). */
async function groupHead(
  client: FlowClient,
  sql: FlowSql,
  queue: string,
  priority: number,
  group: string,
): Promise<Head | undefined> {
  const head = (await client.query<Head>(sql.groupHead, [queue, priority, group])).rows[0];
  if (group !== '') return head;
  const plain = (await client.query<Head>(sql.plainHead, [queue, priority])).rows[0];
  if (head === undefined || plain === undefined) return head ?? plain;
  const [pr, hr] = [Number(plain.run_at), Number(head.run_at)];
  return pr < hr || (pr === hr && Number(plain.seq) < Number(head.seq)) ? plain : head;
}

async function fits(client: FlowClient, sql: FlowSql, limitsJson: string): Promise<boolean> {
  let limits: unknown;
  try {
    limits = JSON.parse(limitsJson);
  } catch {
    return true; // a raw client's garbage: no limit to keep
  }
  if (!Array.isArray(limits)) return true;
  for (const entry of limits as Array<{ key?: unknown; limit?: unknown }>) {
    if (typeof entry?.key !== 'string' || typeof entry.limit !== 'number') continue;
    const n = (await client.query<{ n: number | string }>(sql.running, [entry.key])).rows[0]?.n ?? 0;
    if (Number(n) >= entry.limit) return false;
  }
  return true;
}
