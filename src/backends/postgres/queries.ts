import { CLAIMABLE_SQL, LEASE_SET_SQL, RUNNING_SQL, TASK_COLUMNS, UNFINISHED_SQL } from './rows.js';
import { LOCK_EVENTS } from './migrations.js';

/** `t.id, t.name, …`: TASK_COLUMNS of a table alias. */
function columns(alias: string): string {
  return TASK_COLUMNS.split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');
}

/** Only the live delivery may move a task: same lease owner, same attempt, still running. */
const LIVE = `id = $1 AND lease_owner = $2 AND attempts = $3 AND ${RUNNING_SQL}`;
/** A success also counts from an earlier delivery while the task has not finished (see Backend.complete). */
const MAY_SUCCEED = `id = $1 AND ((lease_owner = $2 AND attempts = $3 AND ${RUNNING_SQL})
  OR (${UNFINISHED_SQL} AND (attempts > $3 OR (attempts = $3 AND NOT ${RUNNING_SQL}))))`;
const DROP_LEASE = 'lease_owner = NULL, lease_until = NULL';
const REVOKE = `state = 'REVOKED', finished_at = $2, purge_at = $3, ${DROP_LEASE}`;
/** A finished task run again (BackendAdmin.retryTasks): its follow-up came already and is not armed again, nor is it debounced. */
const RERUN = `state = 'PENDING', run_at = $2, retries = 0, error_json = NULL, result_json = NULL,
  started_at = NULL, finished_at = NULL, purge_at = NULL, follow_up = NULL, debounce_key = NULL, ${DROP_LEASE}`;

const LIVE_D = `t.lease_owner = d.owner AND t.attempts = d.attempt AND t.${RUNNING_SQL}`;
const MAY_SUCCEED_D = `((t.lease_owner = d.owner AND t.attempts = d.attempt AND t.${RUNNING_SQL})
  OR (t.${UNFINISHED_SQL} AND (t.attempts > d.attempt OR (t.attempts = d.attempt AND NOT t.${RUNNING_SQL}))))`;

/** A worker-side transition of many deliveries: what it sets and which delivery may make it (both read d.p1…, typed `types`). */
interface StepSql {
  set: string;
  where: string;
  types: string[];
  /** Its terminal transition enqueues the follow-up (the one-statement form leaves those out). */
  followUp: boolean;
}

const steps = {
  progress: { set: `state = 'PROGRESS', progress_json = d.p1`, where: LIVE_D, types: ['text'], followUp: false },
  complete: {
    set: `state = 'SUCCESS', result_json = d.p1, finished_at = d.p2, purge_at = d.p3, ${DROP_LEASE}`,
    where: MAY_SUCCEED_D,
    types: ['text', 'bigint', 'bigint'],
    followUp: true,
  },
  fail: {
    set: `state = 'FAILURE', error_json = d.p1, finished_at = d.p2, purge_at = d.p3, ${DROP_LEASE}`,
    where: LIVE_D,
    types: ['text', 'bigint', 'bigint'],
    followUp: true,
  },
  retry: {
    set: `state = 'RETRY', error_json = d.p1, run_at = d.p2, retries = t.retries + 1, ${DROP_LEASE}`,
    where: LIVE_D,
    types: ['text', 'bigint'],
    followUp: false,
  },
  release: {
    set: `state = 'PENDING', attempts = t.attempts - 1, run_at = d.p1, ${DROP_LEASE}`,
    where: LIVE_D,
    types: ['bigint'],
    followUp: false,
  },
} satisfies Record<string, StepSql>;

/** A transition of many deliveries (distinct tasks) in one statement: d(id, owner, attempt, p1, p2, p3). */
function many(S: string, step: StepSql, extra = ''): string {
  const names = ['id', 'owner', 'attempt', ...step.types.map((_, i) => `p${i + 1}`)];
  const arrays = ['text', 'text', 'int', ...step.types].map((type, i) => `$${i + 1}::${type}[]`);
  return `UPDATE ${S}.tasks t SET version = t.version + 1, ${step.set}
    FROM unnest(${arrays.join(', ')}) AS d(${names.join(', ')})
    WHERE t.id = d.id AND ${step.where} ${extra}
    RETURNING ${columns('t')}, t.limits IS NOT NULL AS limited`;
}

const WS = '[ \\t\\n\\r]*';
const JSON_STRING = '"([^"\\\\[:cntrl:]]|\\\\["\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4})*"';
/**
 * A JSON array of strings, as a POSIX regex (no stricter reader than this
 * accepts: a control character counts as garbage even where JSON allows it):
 * a row's tags a raw client garbled are left out of its event and tag rows,
 * as decodeRow leaves them out of its TaskInfo, and never fail the statement.
 */
export const TAGS_RE = `^${WS}\\[${WS}(${JSON_STRING}(${WS},${WS}${JSON_STRING})*)?${WS}\\]${WS}$`;

/** The columns decodeRow reads, of the row `alias`, as a JSON object (text): an event's row_json. */
function rowJson(alias: string): string {
  const names = ['id', 'name', 'queue', 'state', 'version', 'attempts', 'retries', 'enqueued_at', 'run_at'].concat([
    'result_json',
    'error_json',
    'progress_json',
    'started_at',
    'finished_at',
    'tags',
  ]);
  return `json_build_object(${names.map((name) => `'${name}', ${alias}.${name}`).join(', ')})::text`;
}

/**
 * The CTEs that publish the rows of CTE `r` (TASK_COLUMNS) in the statement
 * that changed them: an event for each row matching `evented`, written under
 * the events lock, which is taken only once every row of r is written (the
 * count reads r to its end) and only when there are events: a statement
 * never waits for a row lock while it holds the events lock, as no
 * transaction does. Then the tag rows moved to the events' seqs, and the
 * notifications ('e' when there are events, 'q:<queue>' of the rows matching
 * `woken`), counted in notes (which the statement must read). Parameters
 * $n+1 origin, $n+2 at, $n+3 schema, $n+4 channel.
 */
function published(S: string, evented: string, revoked: string, woken: string, n: number): string {
  const [origin, at, schema, channel] = [1, 2, 3, 4].map((k) => `$${n + k}`);
  return `evn AS (SELECT count(*) AS n FROM r WHERE ${evented}),
    evlock AS (SELECT pg_advisory_xact_lock(${LOCK_EVENTS}, hashtext(${schema}::text)) FROM evn WHERE evn.n > 0),
    ev AS (
      INSERT INTO ${S}.events (task_id, origin, at, revoked, row_json, tags)
      SELECT r.id, ${origin}::text, ${at}::bigint, ${revoked}, ${rowJson('r')}, CASE WHEN r.tags ~ '${TAGS_RE}' THEN r.tags END
      FROM evlock, r WHERE ${evented}
      RETURNING seq, task_id, tags),
    moved AS (
      INSERT INTO ${S}.task_tags (tag, task_id, seq)
      SELECT t.tag, ev.task_id, ev.seq
      FROM ev CROSS JOIN LATERAL (SELECT DISTINCT tag FROM json_array_elements_text(ev.tags::json) AS j(tag)) t
      WHERE ev.tags IS NOT NULL
      ON CONFLICT (tag, task_id) DO UPDATE SET seq = excluded.seq),
    notes AS (SELECT count(pg_notify(${channel}::text, p)) AS n FROM (
      SELECT 'e' AS p FROM evn WHERE evn.n > 0
      UNION ALL SELECT DISTINCT 'q:' || r.queue FROM r WHERE ${woken}) x)`;
}

/** A worker-side transition as one statement (published); the ones that would start a follow-up are left out. */
function fastSteps(S: string, step: StepSql, wake: boolean | string): string {
  const n = 3 + step.types.length;
  return `WITH r AS (${many(S, step, step.followUp ? 'AND t.follow_up IS NULL' : '')}),
    ${published(S, 'true', 'false', typeof wake === 'string' ? wake : wake ? 'true' : 'false', n)}
    SELECT (SELECT n FROM notes) AS notified, r.* FROM r`;
}

/** Keyless tasks, many at once ($1…$11 arrays); an existing id is not inserted. */
function INSERT_MANY(S: string): string {
  return `INSERT INTO ${S}.tasks (id, name, queue, state, version, payload, enqueued_at, run_at, expires_at, tags, follow_up, trace, priority)
      SELECT id, name, queue, 'PENDING', 1, payload, enqueued_at, run_at, expires_at, tags, follow_up, trace, priority
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::int[])
        AS u(id, name, queue, payload, enqueued_at, run_at, expires_at, tags, follow_up, trace, priority)
      ON CONFLICT DO NOTHING`;
}

/**
 * The claim's pick: per queue (in the order listed) the first due tasks,
 * highest priority first, then in due order (the tasks_ready index's
 * order), locked with SKIP LOCKED so concurrent claimers pass each other,
 * then the first `limit` of them. $1 queues, $2 now, $3 limit.
 */
function CLAIM_PICKED(S: string, gate = ''): string {
  return `picked AS (
        SELECT x.seq AS p_seq, q.ord AS p_ord, x.priority AS p_pri, x.run_at AS p_due
        FROM unnest($1::text[]) WITH ORDINALITY AS q(name, ord) ${gate}
        CROSS JOIN LATERAL (
          SELECT seq, priority, run_at FROM ${S}.tasks
          WHERE queue = q.name AND ${CLAIMABLE_SQL} AND fair_group IS NULL AND run_at <= $2 AND ${notPaused(S, 'q.name')}
          ORDER BY priority DESC, run_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED) x
        ORDER BY q.ord, x.priority DESC, x.run_at, x.seq LIMIT $3)`;
}

/** The picked tasks leased (STARTED) or, when they expired before starting, ended REVOKED: $4 owner, $5 lease until, $6 purge at, $7 the error. */
function CLAIM_UPDATE(S: string, extra: string): string {
  return `UPDATE ${S}.tasks t SET ${LEASE_SET_SQL}
      FROM picked WHERE t.seq = picked.p_seq ${extra}
      RETURNING picked.p_ord, picked.p_pri, picked.p_due, t.seq, ${columns('t')}`;
}

/** The earliest run_at of a claimable task of queues $1 (a paused queue's due tasks must not look due, or a waiting claim would spin on them). */
function NEXT_RUN_AT(S: string): string {
  return `SELECT min(run_at) FROM ${S}.tasks t WHERE queue = ANY($1::text[]) AND ${CLAIMABLE_SQL} AND ${notPaused(S, 't.queue')}`;
}

/** Every statement of the broker, for the schema `S` (quoted). */
export function queries(S: string) {
  const update = (set: string, where = LIVE) =>
    `UPDATE ${S}.tasks SET version = version + 1, ${set} WHERE ${where} RETURNING ${TASK_COLUMNS}`;
  return {
    insert: `INSERT INTO ${S}.tasks (id, name, queue, state, version, payload, enqueued_at, run_at, expires_at, idempotency_key, tags, follow_up, trace, priority,
        fair_group, limits, limit_key1, limit_key2, limit_key3, limit_key4, rate_limits, debounce_key, debounce_until,
        aging_every, aging_step, aging_max, aging_next)
      VALUES ($1, $2, $3, 'PENDING', 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
        $22, $23, $24, $25)
      ON CONFLICT DO NOTHING RETURNING seq`,
    /**
     * Backend.agePriorities at $1: the waiting tasks whose raise time has
     * come (at most $2), raised as core/aging.ts ageStep computes: the
     * raises owed since the later of the due time and the last raise, capped
     * at the rule's max; a task not due yet is looked at again a period after
     * its due time. Returns the raised rows' seqs (raised true).
     */
    age: `WITH due AS (
        SELECT seq, priority AS p, aging_every AS e, aging_step AS st, aging_max AS mx,
          GREATEST(run_at, aging_next - aging_every) AS since
        FROM ${S}.tasks WHERE aging_next <= $1 AND state IN ('PENDING', 'RETRY')
        ORDER BY aging_next LIMIT $2 FOR UPDATE SKIP LOCKED),
      owed AS (SELECT due.*, CASE WHEN since > $1 THEN -1 ELSE ($1 - since) / e END AS k FROM due),
      raised AS (SELECT owed.*, CASE WHEN k < 0 THEN p ELSE GREATEST(p, LEAST(mx, p + st * k)) END AS np FROM owed)
      UPDATE ${S}.tasks t SET priority = r.np,
        aging_next = CASE WHEN r.k < 0 THEN r.since + r.e WHEN r.np >= r.mx THEN NULL ELSE r.since + (r.k + 1) * r.e END
      FROM raised r WHERE t.seq = r.seq RETURNING r.np <> r.p AS raised`,
    /** The waiting, never started task of debounce key $1 takes an enqueue at $2 (NewTask.debounce). */
    debounceHit: `UPDATE ${S}.tasks SET version = version + 1,
        run_at = CASE WHEN run_at > $2 THEN LEAST($3::bigint, COALESCE(debounce_until, $3::bigint)) ELSE run_at END,
        payload = CASE WHEN $4::boolean THEN $5 ELSE payload END
      WHERE debounce_key = $1 AND state = 'PENDING' AND started_at IS NULL
      RETURNING ${TASK_COLUMNS}`,
    byKey: `SELECT id, name, payload, purge_at FROM ${S}.tasks WHERE idempotency_key = $1`,
    drop: `WITH gone AS (DELETE FROM ${S}.tasks WHERE id = $1 RETURNING id)
      DELETE FROM ${S}.task_tags WHERE task_id IN (SELECT id FROM gone)`,
    followUp: `INSERT INTO ${S}.tasks (id, name, queue, state, version, payload, enqueued_at, run_at)
      VALUES ($1, $2, $3, 'PENDING', 1, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING queue`,
    /**
     * One statement per claim: per queue (in the order listed) the first due
     * tasks in due order, locked with SKIP LOCKED so concurrent claimers pass
     * each other, then the first `limit` of them leased (STARTED) or, when
     * they expired before starting, ended REVOKED.
     */
    claim: `WITH ${CLAIM_PICKED(S)} ${CLAIM_UPDATE(S, '')}`,
    // a paused queue's due tasks must not look due, or a waiting claim would spin on them
    nextRunAt: `SELECT (${NEXT_RUN_AT(S)}) AS at`,
    countWaiting: `SELECT count(*) AS n FROM ${S}.tasks WHERE queue = $1 AND ${CLAIMABLE_SQL}`,
    get: `SELECT ${TASK_COLUMNS} FROM ${S}.tasks WHERE id = $1`,
    getForUpdate: `SELECT ${TASK_COLUMNS} FROM ${S}.tasks WHERE id = $1 FOR UPDATE`,
    progress: update(`state = 'PROGRESS', progress_json = $4`),
    complete: update(`state = 'SUCCESS', result_json = $4, finished_at = $5, purge_at = $6, ${DROP_LEASE}`, MAY_SUCCEED),
    fail: update(`state = 'FAILURE', error_json = $4, finished_at = $5, purge_at = $6, ${DROP_LEASE}`),
    retry: update(`state = 'RETRY', error_json = $4, run_at = $5, retries = retries + 1, ${DROP_LEASE}`),
    release: update(`state = 'PENDING', attempts = attempts - 1, run_at = $4, ${DROP_LEASE}`),
    /** Backend.wake: waiting task $1, due later, due at $2. */
    wake: update(
      'run_at = $2',
      `id = $1 AND state IN ('PENDING', 'RETRY') AND run_at > $2 AND (purge_at IS NULL OR purge_at > $2)`,
    ),
    revoke: update(REVOKE, `id = $1 AND ${UNFINISHED_SQL}`),
    /**
     * Up to $4 waiting tasks (due or not) of queue $1 REVOKED, as revoke does
     * (BackendAdmin.purgeQueue): picked in claim order off the claimable
     * index, then updated by primary key (an array, not IN, which would scan).
     */
    revokeWaiting: update(
      REVOKE,
      `seq = ANY (ARRAY(SELECT seq FROM ${S}.tasks WHERE queue = $1 AND ${CLAIMABLE_SQL}
        ORDER BY run_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED))`,
    ),
    /** The kept FAILURE or REVOKED tasks of ids $1 back to PENDING, due at $2 (BackendAdmin.retryTasks). */
    rerun: update(RERUN, `id = ANY($1::text[]) AND state IN ('FAILURE', 'REVOKED') AND (purge_at IS NULL OR purge_at > $2)`),
    // the same transitions for many deliveries at once: d(id, owner, attempt, p1, p2, p3)
    progressMany: many(S, steps.progress),
    completeMany: many(S, steps.complete),
    failMany: many(S, steps.fail),
    retryMany: many(S, steps.retry),
    releaseMany: many(S, steps.release),
    /** Tasks without an idempotency key, many at once; an existing id is not inserted (not returned). */
    insertMany: `${INSERT_MANY(S)} RETURNING id`,
    /** Renewing leases is not a transition: no version bump, no event. */
    extend: `UPDATE ${S}.tasks t SET lease_until = $4
      FROM unnest($1::text[], $2::text[], $3::int[]) AS d(id, owner, attempt)
      WHERE t.id = d.id AND t.lease_owner = d.owner AND t.attempts = d.attempt AND t.state IN ('STARTED', 'PROGRESS')
      RETURNING t.id`,
    rescue: `UPDATE ${S}.tasks t SET state = 'PENDING', version = t.version + 1, run_at = $1, ${DROP_LEASE}
      WHERE t.seq IN (SELECT seq FROM ${S}.tasks WHERE lease_until <= $1 AND ${RUNNING_SQL} ORDER BY seq FOR UPDATE SKIP LOCKED)
      RETURNING ${columns('t')}`,
    tagPage: `SELECT tt.seq AS cursor, ${columns('t')}
      FROM ${S}.task_tags tt JOIN ${S}.tasks t ON t.id = tt.task_id
      WHERE tt.tag = $1 AND tt.seq > $2 AND (t.purge_at IS NULL OR t.purge_at > $3)
      ORDER BY tt.seq LIMIT $4`,
    deadLetter: `INSERT INTO ${S}.dead_letters (id, name, queue, payload, error_json, at, trace) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    trimDeadLetters: `DELETE FROM ${S}.dead_letters
      WHERE seq <= (SELECT seq FROM ${S}.dead_letters ORDER BY seq DESC OFFSET $1 LIMIT 1)`,
    listDeadLetters: `SELECT id, name, queue, payload, error_json, at, trace FROM ${S}.dead_letters ORDER BY seq DESC LIMIT $1`,
    pruneTasks: `WITH gone AS (
        DELETE FROM ${S}.tasks WHERE seq IN (SELECT seq FROM ${S}.tasks WHERE purge_at <= $1 LIMIT $2) RETURNING id, tags),
      untag AS (DELETE FROM ${S}.task_tags tt USING gone WHERE gone.tags IS NOT NULL AND tt.task_id = gone.id)
      SELECT count(*) AS n FROM gone`,
    /** BackendAdmin's expired records and dropped counters, up to $2 of each (by ctid: no scan); the larger count. */
    pruneBookkeeping: `WITH
      records AS (DELETE FROM ${S}.admin_records WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM ${S}.admin_records WHERE expires_at <= $1 LIMIT $2)) RETURNING 1),
      counters AS (DELETE FROM ${S}.admin_counters WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM ${S}.admin_counters WHERE drop_at <= $1 LIMIT $2)) RETURNING 1),
      rates AS (DELETE FROM ${S}.rate_keys WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM ${S}.rate_keys WHERE idle_at <= $1 LIMIT $2)) RETURNING 1)
      SELECT greatest((SELECT count(*) FROM records), (SELECT count(*) FROM counters), (SELECT count(*) FROM rates)) AS n`,
    pruneEvents: `WITH gone AS (
        DELETE FROM ${S}.events WHERE seq IN (SELECT seq FROM ${S}.events WHERE at < $1 ORDER BY seq LIMIT $2) RETURNING 1)
      SELECT count(*) AS n FROM gone`,
    eventsSince: `SELECT seq, task_id, revoked, info, row_json, tags, origin = $1 AS own FROM ${S}.events
      WHERE seq > $2 AND (origin <> $1 OR ($3 AND tags IS NOT NULL)) ORDER BY seq LIMIT $4`,
    lastEvent: `SELECT coalesce(max(seq), 0) AS seq FROM ${S}.events`,
    /**
     * Appends a transaction's events, moves its tagged tasks' tag rows to
     * their new seq, and queues its notifications (sent at COMMIT), in one
     * statement. The advisory lock, held until COMMIT, makes seq order commit
     * order: a reader of seq > n never sees a later commit before an earlier one.
     */
    publish: publish(S, true),
    /**
     * The one-statement (autocommit) writes of the common cases: the change,
     * its events (row_json, under the events lock, taken once every row is
     * written), its tag rows moved and its notifications queued, all in one
     * statement, so one round trip and one commit. Transitions that would
     * start a follow-up are left out (not returned): the caller runs those in
     * a transaction. Each ends with $n+1 origin, $n+2 at, $n+3 schema, $n+4 channel.
     */
    fast: {
      progress: fastSteps(S, steps.progress, false),
      // a task with limits frees a slot: its queue's claimers look again
      complete: fastSteps(S, steps.complete, 'r.limited'),
      fail: fastSteps(S, steps.fail, 'r.limited'),
      retry: fastSteps(S, steps.retry, true),
      release: fastSteps(S, steps.release, true),
      /** Keyless tasks: the tagged ones' PENDING is an event (their tag feeds' change); every queue is woken. */
      insert: `WITH r AS (${INSERT_MANY(S)} RETURNING ${TASK_COLUMNS}),
        ${published(S, 'r.tags IS NOT NULL', 'false', 'true', 11)}
        SELECT r.id, r.tags, (SELECT n FROM notes) AS notified FROM r`,
      /**
       * The claim, as one statement, of plain tasks only: when flow-controlled
       * tasks wait in one of the queues (fair, one probe of tasks_fair) it
       * picks nothing and the caller claims in a transaction (takeFair). An expired task with a follow-up is
       * left alone (counted in picked, not returned): the caller claims
       * again in a transaction. next_at is the nextRunAt of the same
       * snapshot, read when nothing was claimed.
       */
      claim: `WITH fair AS (SELECT EXISTS (SELECT 1 FROM ${S}.tasks
          WHERE queue = ANY($1::text[]) AND ${CLAIMABLE_SQL} AND fair_group IS NOT NULL) AS waiting),
        ${CLAIM_PICKED(S, 'JOIN fair ON NOT fair.waiting')},
        r AS (${CLAIM_UPDATE(S, `AND (t.follow_up IS NULL OR t.expires_at IS NULL OR t.expires_at > $2)`)}),
        ${published(S, 'true', 'false', 'false', 7)}
        SELECT s.fair, s.picked, s.notified, s.next_at, r.* FROM (SELECT
          (SELECT waiting FROM fair) AS fair,
          (SELECT count(*) FROM picked) AS picked,
          (SELECT n FROM notes) AS notified,
          CASE WHEN NOT EXISTS (SELECT 1 FROM r) THEN (${NEXT_RUN_AT(S)}) END AS next_at) s
        LEFT JOIN r ON true`,
    },
    /** The same inside the caller's own transaction (transactional enqueue): without the lock, which it would hold until its COMMIT. */
    publishUnlocked: publish(S, false),
  };
}

/** A paused queue hands out nothing (BackendAdmin.setQueuePaused). */
function notPaused(S: string, queue: string): string {
  return `NOT EXISTS (SELECT 1 FROM ${S}.paused_queues p WHERE p.queue = ${queue})`;
}

function publish(S: string, locked: boolean): string {
  const lock = locked ? `lock AS (SELECT pg_advisory_xact_lock(${LOCK_EVENTS}, hashtext($1))),` : '';
  return `WITH ${lock}
    ev AS (
      INSERT INTO ${S}.events (task_id, origin, at, revoked, info, tags)
      SELECT e.task_id, $2, $3, e.revoked, e.info, e.tags
      FROM ${locked ? 'lock, ' : ''}unnest($4::text[], $5::boolean[], $6::text[], $7::text[]) WITH ORDINALITY AS e(task_id, revoked, info, tags, ord)
      WHERE $1::text IS NOT NULL
      ORDER BY e.ord
      RETURNING seq, task_id, tags),
    moved AS (
      INSERT INTO ${S}.task_tags (tag, task_id, seq)
      SELECT DISTINCT ON (t.tag, ev.task_id) t.tag, ev.task_id, ev.seq
      FROM ev CROSS JOIN LATERAL json_array_elements_text(ev.tags::json) AS t(tag)
      WHERE ev.tags IS NOT NULL
      ORDER BY t.tag, ev.task_id, ev.seq DESC
      ON CONFLICT (tag, task_id) DO UPDATE SET seq = excluded.seq)
    SELECT (SELECT count(*) FROM ev) AS events, (SELECT count(pg_notify($8, p)) FROM unnest($9::text[]) AS p) AS notified`;
}
