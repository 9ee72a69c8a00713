import type { CountBucket } from '../../core/admin/admin-backend.js';
import { now } from '../../core/clock.js';
import type { RedisAdminHost } from './admin-host.js';
import { callScript, defineScripts, type ScriptArg } from './scripts.js';
import { ADD_COUNTS_LUA, LIST_RECORDS_LUA, PUT_RECORDS_LUA, READ_COUNTS_LUA } from './lua/bookkeeping.js';

const SCRIPTS = {
  errandPutRecords: PUT_RECORDS_LUA,
  errandListRecords: LIST_RECORDS_LUA,
  errandAddCounts: ADD_COUNTS_LUA,
  errandReadCounts: READ_COUNTS_LUA,
} as const;

/** Records per script call of putRecords. */
const PUT_CHUNK = 1000;

/**
 * The Redis broker's records, counters and logs (BackendAdmin's bookkeeping
 * half); the layout is in lua/bookkeeping.ts, logs are lists (LPUSH, LTRIM).
 */
export class RedisBookkeeping {
  constructor(private readonly host: RedisAdminHost) {
    defineScripts(host.redis, SCRIPTS);
  }

  async putRecords(kind: string, records: ReadonlyArray<{ id: string; json: string }>, ttlMs: number): Promise<void> {
    this.host.assertOpen();
    const keys = [this.host.keys.records(kind), this.host.keys.recordExpiries(kind)];
    for (let i = 0; i < records.length; i += PUT_CHUNK) {
      const t = now();
      const args: ScriptArg[] = [this.host.keys.base, t, t + ttlMs];
      for (const { id, json } of records.slice(i, i + PUT_CHUNK)) args.push(id, json);
      await this.script('putRecords', 'errandPutRecords', keys, args);
    }
  }

  async listRecords(kind: string, idPrefix = ''): Promise<Array<{ id: string; json: string }>> {
    this.host.assertOpen();
    const keys = [this.host.keys.records(kind), this.host.keys.recordExpiries(kind)];
    const reply = (await this.script('listRecords', 'errandListRecords', keys, [
      this.host.keys.base,
      now(),
      idPrefix,
    ])) as string[];
    const out: Array<{ id: string; json: string }> = [];
    for (let i = 0; i < reply.length; i += 2) out.push({ id: String(reply[i]), json: String(reply[i + 1]) });
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async deleteRecord(kind: string, id: string): Promise<void> {
    this.host.assertOpen();
    const { keys, redis } = this.host;
    await this.host.run('deleteRecord', () =>
      redis.multi().hdel(keys.records(kind), id).zrem(keys.recordExpiries(kind), id).exec().then(checkReplies),
    );
  }

  async addCounts(bucket: number, deltas: Readonly<Record<string, number>>, retainMs: number): Promise<void> {
    this.host.assertOpen();
    const args: ScriptArg[] = [this.host.keys.base, now(), bucket, bucket + retainMs];
    for (const [counter, delta] of Object.entries(deltas)) args.push(counter, delta);
    await this.script('addCounts', 'errandAddCounts', [this.host.keys.counts(bucket), this.host.keys.countBuckets], args);
  }

  async readCounts(since: number): Promise<CountBucket[]> {
    this.host.assertOpen();
    const args = [this.host.keys.base, now(), since];
    const reply = (await this.script('readCounts', 'errandReadCounts', [this.host.keys.countBuckets], args)) as unknown[];
    const out: CountBucket[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const flat = reply[i + 1] as string[];
      const counts: Record<string, number> = {};
      for (let k = 0; k < flat.length; k += 2) counts[String(flat[k])] = Number(flat[k + 1]);
      out.push({ bucket: Number(reply[i]), counts });
    }
    return out.sort((a, b) => a.bucket - b.bucket);
  }

  async appendLog(kind: string, json: string, keep: number): Promise<void> {
    this.host.assertOpen();
    const { keys, redis } = this.host;
    const key = keys.log(kind);
    await this.host.run('appendLog', () =>
      (keep > 0
        ? redis
            .multi()
            .lpush(key, json)
            .ltrim(key, 0, keep - 1)
        : redis.multi().del(key)
      )
        .exec()
        .then(checkReplies),
    );
  }

  async readLog(kind: string, limit: number): Promise<string[]> {
    this.host.assertOpen();
    if (limit <= 0) return [];
    return this.host.run('readLog', () => this.host.redis.lrange(this.host.keys.log(kind), 0, limit - 1));
  }

  private script(what: string, name: keyof typeof SCRIPTS, keys: string[], args: ScriptArg[]): Promise<unknown> {
    return this.host.run(what, () => callScript(this.host.redis, name, keys, args));
  }
}

/** Throws the first error of a MULTI's replies (exec() resolves with them). */
export function checkReplies(replies: Array<[Error | null, unknown]> | null): void {
  for (const [error] of replies ?? []) if (error) throw error;
}
