import { Redis } from 'ioredis';
import { PREFIX, REDIS_DB, redisOptions } from './config.js';
import { markAdmin } from './socket-count.js';

/** The harness's own connection to the bench database: flushing, INFO, MONITOR, MEMORY USAGE. */
export class RedisAdmin {
  private constructor(private readonly redis: Redis) {}

  static async open(): Promise<RedisAdmin> {
    const redis = new Redis({ ...redisOptions, lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    markAdmin(redis.stream as never);
    return new RedisAdmin(redis);
  }

  async version(): Promise<string> {
    return (await this.info('server')).get('redis_version') ?? '?';
  }

  /** Keys in the bench db that none of the benchmarked systems wrote. */
  async foreignKeys(limit = 5): Promise<string[]> {
    const prefixes = Object.values(PREFIX);
    const foreign: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) if (!prefixes.some((p) => key.startsWith(p))) foreign.push(key);
    } while (cursor !== '0' && foreign.length < limit);
    return foreign.slice(0, limit);
  }

  /** Empties the bench database (never db 0: config.ts refuses it). */
  async flush(): Promise<void> {
    if (REDIS_DB === 0) throw new Error('refusing to flush db 0');
    await this.redis.flushdb();
  }

  async info(section: string): Promise<Map<string, string>> {
    const text = await this.redis.info(section);
    const map = new Map<string, string>();
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#')) map.set(line.slice(0, i), line.slice(i + 1));
    }
    return map;
  }

  /** calls per command, from INFO commandstats (server-wide: every db, every client). */
  async commandStats(): Promise<Map<string, number>> {
    const stats = new Map<string, number>();
    for (const [key, value] of await this.info('commandstats')) {
      const m = /calls=(\d+)/.exec(value);
      if (key.startsWith('cmdstat_') && m) stats.set(key.slice('cmdstat_'.length), Number(m[1]));
    }
    return stats;
  }

  /** used_cpu_sys + used_cpu_user of the server, in ms (server-wide). */
  async cpuMs(): Promise<number> {
    const cpu = await this.info('cpu');
    return (Number(cpu.get('used_cpu_sys')) + Number(cpu.get('used_cpu_user'))) * 1000;
  }

  async usedMemory(): Promise<number> {
    return Number((await this.info('memory')).get('used_memory'));
  }

  /** MEMORY USAGE (SAMPLES 0: exact) summed over every key of the bench db, grouped by key shape. */
  async memoryUsage(): Promise<{ bytes: number; keys: number; byShape: Map<string, { keys: number; bytes: number }> }> {
    let bytes = 0;
    let count = 0;
    const byShape = new Map<string, { keys: number; bytes: number }>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
      const replies = (await pipeline.exec()) ?? [];
      keys.forEach((key, i) => {
        const size = Number(replies[i]?.[1] ?? 0);
        bytes += size;
        count++;
        const shape = keyShape(key);
        const entry = byShape.get(shape) ?? { keys: 0, bytes: 0 };
        entry.keys++;
        entry.bytes += size;
        byShape.set(shape, entry);
      });
    } while (cursor !== '0');
    return { bytes, keys: count, byShape };
  }

  /** Starts MONITOR; counts the commands run in the bench db, by whom (a client, or a script). */
  async monitor(): Promise<CommandMonitor> {
    const monitor = await this.redis.monitor();
    markAdmin((monitor as unknown as { stream: never }).stream);
    const self = `${this.redis.stream.localAddress}:${this.redis.stream.localPort}`;
    const recorder = new CommandMonitor(
      async () => {
        await monitor.disconnect();
      },
      async (mark) => {
        await this.redis.echo(mark);
      },
    );
    monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => {
      if (source === self) {
        if ((args[0] ?? '').toLowerCase() === 'echo' && args[1]) recorder.marked(args[1]);
        return;
      }
      if (Number(database) !== REDIS_DB) return;
      recorder.record((args[0] ?? '?').toLowerCase(), source === 'lua');
    });
    await recorder.take(); // MONITOR is live once our first mark comes back
    return recorder;
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

export interface CommandCounts {
  /** Every command, those run by scripts included. */
  total: number;
  /** Commands sent by clients (scripts count once, as EVAL/EVALSHA). */
  fromClients: number;
  /** Commands run inside scripts. */
  inScripts: number;
  byCommand: Map<string, number>;
}

/** Counts from MONITOR, filtered to the bench db and to the systems' own connections. */
export class CommandMonitor {
  private counts = emptyCounts();
  private marks = 0;
  private readonly pending = new Map<string, () => void>();

  constructor(
    private readonly onStop: () => Promise<void>,
    private readonly sendMark: (mark: string) => Promise<void>,
  ) {}

  marked(mark: string): void {
    this.pending.get(mark)?.();
    this.pending.delete(mark);
  }

  record(command: string, inScript: boolean): void {
    this.counts.total++;
    if (inScript) this.counts.inScripts++;
    else this.counts.fromClients++;
    this.counts.byCommand.set(command, (this.counts.byCommand.get(command) ?? 0) + 1);
  }

  /**
   * The counts of every command executed so far, and a fresh start. MONITOR
   * output trails execution: an ECHO mark sent now comes back after every
   * line of what ran before it, so we wait for it before taking the counts.
   */
  async take(): Promise<CommandCounts> {
    const mark = `bench-mark-${++this.marks}`;
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('MONITOR mark did not come back within 30 s')), 30_000);
      this.pending.set(mark, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.sendMark(mark);
    await seen;
    const counts = this.counts;
    this.counts = emptyCounts();
    return counts;
  }

  stop(): Promise<void> {
    return this.onStop();
  }
}

function emptyCounts(): CommandCounts {
  return { total: 0, fromClients: 0, inScripts: 0, byCommand: new Map() };
}

/** A key with its ids replaced: bench-bull:bench:123 → bench-bull:bench:{n}. */
export function keyShape(key: string): string {
  return key.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{uuid}').replace(/\d+/g, '{n}');
}

/** after − before, per command, dropping zeros. */
export function statsDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [command, calls] of after) {
    const d = calls - (before.get(command) ?? 0);
    if (d > 0) delta.set(command, d);
  }
  return delta;
}
