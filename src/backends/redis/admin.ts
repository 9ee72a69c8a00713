import type {
  BackendAdmin,
  BrokerOverview,
  CountBucket,
  TaskPage,
  TaskQuery,
  TaskRecord,
} from '../../core/admin/admin-backend.js';
import { OverviewTally, TaskListCollector } from '../../core/admin/scan-views.js';
import { checkTaskQuery } from '../../core/admin/task-query.js';
import { now } from '../../core/clock.js';
import type { TaskInfo } from '../../core/types.js';
import { RedisBookkeeping, checkReplies } from './admin-bookkeeping.js';
import type { RedisAdminHost } from './admin-host.js';
import { callScript, defineScripts, type ScriptArg } from './scripts.js';
import { INFO_FIELDS, infoFromFields } from './codec.js';
import { ADMIN_SCAN_LUA } from './lua/admin-scan.js';
import { DEAD_LETTERS_LUA } from './lua/dead-letters.js';
import { PURGE_LUA } from './lua/purge.js';
import { RERUN_LUA } from './lua/rerun.js';

const SCRIPTS = {
  errandAdminScan: ADMIN_SCAN_LUA,
  errandRerun: RERUN_LUA,
  errandPurge: PURGE_LUA,
  errandDeadLetters: DEAD_LETTERS_LUA,
} as const;

/** SCAN COUNT per admin-scan call: about this many keys looked at per call (each call blocks Redis briefly). */
const SCAN_COUNT = 1000;
/** Task ids per rerun or dead-letter script call; queue entries per purge call. */
const ACTION_CHUNK = 1000;

/**
 * BackendAdmin for the Redis broker. Queries (overview, listTasks) have no
 * index to use: they SCAN the prefix's task hashes in batches (lua/admin-scan.ts),
 * so each costs O(stored tasks) and is meant for an operator, not a hot path.
 * Actions are Lua scripts that make the same transitions as the worker-side
 * ones (version, status event, tag feed, queue lists, wake token).
 */
export class RedisAdmin implements BackendAdmin {
  private readonly bookkeeping: RedisBookkeeping;

  constructor(private readonly host: RedisAdminHost) {
    defineScripts(host.redis, SCRIPTS);
    this.bookkeeping = new RedisBookkeeping(host);
  }

  async overview(): Promise<BrokerOverview> {
    this.host.assertOpen();
    const tally = new OverviewTally(new Set(await this.pausedQueues()), now());
    await this.scan('', (info) => tally.add(info));
    return tally.result();
  }

  async listTasks(query: TaskQuery): Promise<TaskPage> {
    this.host.assertOpen();
    checkTaskQuery(query);
    const collector = new TaskListCollector(query);
    // A corrupt record reads as FAILURE whatever its m says: the script cannot tell, so it filters no FAILURE query.
    const prefilter = query.state === undefined || query.state === 'FAILURE' ? '' : query.state;
    await this.scan(prefilter, (info) => collector.add(info));
    const { picked, next } = collector.page();
    // the page in full (result, error, progress); a task that expired since the scan drops out
    const full = await this.readInfos(picked.map((info) => info.id));
    const tasks = full.filter((info): info is TaskInfo => info !== null);
    return next === undefined ? { tasks } : { tasks, next };
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    this.host.assertOpen();
    const { keys, redis } = this.host;
    const [values, lettered] = await Promise.all([
      this.host.run('getTask', () => redis.hmget(keys.task(id), ...INFO_FIELDS, 'p', 'c')),
      this.deadLetters('has', [id]),
    ]);
    const info = infoFromFields(id, values.slice(0, INFO_FIELDS.length));
    if (!info) return null;
    const [payload, trace] = values.slice(INFO_FIELDS.length);
    const record: TaskRecord = { info, payload: payload ?? '', deadLettered: lettered === 1 };
    if (trace !== null && trace !== undefined) record.trace = trace;
    return record;
  }

  async retryTasks(ids: readonly string[]): Promise<string[]> {
    this.host.assertOpen();
    const moved: string[] = [];
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += ACTION_CHUNK) {
      const args = [this.host.keys.base, now(), this.host.resultTtlMs, ...unique.slice(i, i + ACTION_CHUNK)];
      const reply = (await this.script('retryTasks', 'errandRerun', [this.host.keys.leases], args)) as string[];
      moved.push(...reply.map(String));
    }
    return moved;
  }

  async purgeQueue(queue: string): Promise<number> {
    this.host.assertOpen();
    const keys = [this.host.keys.ready(queue), this.host.keys.delayed(queue), this.host.keys.prioritized(queue)];
    let revoked = 0;
    // entries still to look at: those there at the first call (later enqueues are not chased)
    let budget: number | undefined;
    for (;;) {
      const args = [this.host.keys.base, now(), this.host.resultTtlMs, ACTION_CHUNK];
      const reply = (await this.script('purgeQueue', 'errandPurge', keys, args)) as number[];
      const [n, taken, left] = reply.map(Number) as [number, number, number];
      revoked += n;
      budget = (budget ?? taken + left) - taken;
      if (left === 0 || budget <= 0 || taken === 0) return revoked;
    }
  }

  async setQueuePaused(queue: string, paused: boolean): Promise<void> {
    this.host.assertOpen();
    const { keys, redis } = this.host;
    await this.host.run('setQueuePaused', async () => {
      if (paused) await redis.sadd(keys.paused, queue);
      // resumed: the wake token makes a blocked claim look at the queue again
      else checkReplies(await redis.multi().srem(keys.paused, queue).zadd(keys.wake(queue), 0, 'w').exec());
    });
  }

  async pausedQueues(): Promise<string[]> {
    this.host.assertOpen();
    return (await this.host.run('pausedQueues', () => this.host.redis.smembers(this.host.keys.paused))).sort();
  }

  async retryDeadLetters(ids: readonly string[]): Promise<string[]> {
    this.host.assertOpen();
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    return ((await this.deadLetters('retry', unique)) as string[]).map(String);
  }

  async dropDeadLetters(ids: readonly string[]): Promise<number> {
    this.host.assertOpen();
    const unique = [...new Set(ids)];
    if (unique.length === 0) return 0;
    return Number(await this.deadLetters('drop', unique));
  }

  putRecords(kind: string, records: ReadonlyArray<{ id: string; json: string }>, ttlMs: number): Promise<void> {
    return this.bookkeeping.putRecords(kind, records, ttlMs);
  }
  listRecords(kind: string, idPrefix?: string): Promise<Array<{ id: string; json: string }>> {
    return this.bookkeeping.listRecords(kind, idPrefix);
  }
  deleteRecord(kind: string, id: string): Promise<void> {
    return this.bookkeeping.deleteRecord(kind, id);
  }
  addCounts(bucket: number, deltas: Readonly<Record<string, number>>, retainMs: number): Promise<void> {
    return this.bookkeeping.addCounts(bucket, deltas, retainMs);
  }
  readCounts(since: number): Promise<CountBucket[]> {
    return this.bookkeeping.readCounts(since);
  }
  appendLog(kind: string, json: string, keep: number): Promise<void> {
    return this.bookkeeping.appendLog(kind, json, keep);
  }
  readLog(kind: string, limit: number): Promise<string[]> {
    return this.bookkeeping.readLog(kind, limit);
  }

  /**
   * Calls `visit` once per kept task with its TaskInfo as m and j give it
   * (no result, error or progress), decoded as getInfo decodes. `state`
   * ('' for all) lets the script skip other states' records.
   */
  private async scan(state: string, visit: (info: TaskInfo) => void): Promise<void> {
    const { keys } = this.host;
    // SCAN may return a key more than once
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const args = [keys.base, cursor, keys.taskPattern, SCAN_COUNT, state];
      const reply = (await this.script('scanTasks', 'errandAdminScan', [keys.paused], args)) as Array<string | null>;
      cursor = String(reply[0]);
      for (let i = 1; i < reply.length; i += 3) {
        const id = String(reply[i]);
        if (seen.has(id)) continue;
        seen.add(id);
        const info = infoFromFields(id, [reply[i + 1] ?? null, reply[i + 2] ?? null, null, null, null]);
        if (info) visit(info);
      }
    } while (cursor !== '0');
  }

  /** Full TaskInfos (as getInfo reads them) of `ids`, in order; null for one that is gone. */
  private async readInfos(ids: string[]): Promise<Array<TaskInfo | null>> {
    if (ids.length === 0) return [];
    const { keys, redis } = this.host;
    return this.host.run('listTasks', async () => {
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hmget(keys.task(id), ...INFO_FIELDS);
      const replies = await pipeline.exec();
      return ids.map((id, i) => {
        const [error, values] = replies?.[i] ?? [new Error('no reply'), null];
        if (error) throw error;
        return infoFromFields(id, values as Array<string | null>);
      });
    });
  }

  private deadLetters(mode: 'has' | 'drop' | 'retry', ids: string[]): Promise<unknown> {
    const { keys } = this.host;
    const args = [keys.base, now(), this.host.resultTtlMs, mode, ...ids];
    return this.script(mode === 'has' ? 'getTask' : `${mode}DeadLetters`, 'errandDeadLetters', [keys.dead], args);
  }

  private script(what: string, name: keyof typeof SCRIPTS, keys: string[], args: ScriptArg[]): Promise<unknown> {
    return this.host.run(what, () => callScript(this.host.redis, name, keys, args));
  }
}
