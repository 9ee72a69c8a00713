// The brokers every chaos scenario runs on. Adding one (PostgreSQL, say) is
// one more entry in `chaosBrokers`: how to make an isolated namespace, how to
// look into its storage, and, for a broker with a server, how to run, crash
// and stall a server of the suite's own.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { decodeStateRecord, ownerToken } from '../../src/backends/redis/codec.js';
import { afterEach, describe, it } from 'vitest';
import { cleanupAll, freePort, spawnProcess, startNode, tempDir, until, type ChaosProcess } from './harness.js';

/** What a scenario can read from a broker's storage without going through errand. */
export interface ChaosNamespace {
  broker: ChaosBroker;
  /** The broker URL for createApp / ERRAND_BROKER / the fixtures' BROKER_URL. */
  url: string;
  /** Ids of the running (STARTED/PROGRESS) tasks leased to `owner`, or to anyone when omitted. */
  leased(owner?: string): Promise<string[]>;
  /** Size figures of the namespace (rows or keys, bytes). */
  storage(): Promise<Record<string, number>>;
  /** 'ok', or what the broker's own consistency check found. */
  integrity(): Promise<string>;
  /**
   * Readies a stall of `ms` (e.g. CLIENT PAUSE, a held write lock): the broker
   * stops serving writes when `begin()` is called, and `begin()` resolves once
   * it serves again. Preparing first keeps slow set-up out of the timing.
   */
  prepareStall(ms: number): Promise<{ begin(): Promise<StallWindow> }>;
}

export interface StallWindow {
  startedAt: number;
  endedAt: number;
  how: string;
}

/** A broker server run by the suite (own port, own data dir), for crashes and stalls. */
export interface ChaosServer {
  url: string;
  readonly pid: number;
  /** kill -9 the server and wait for it to be gone. */
  crash(): Promise<void>;
  /** Start it again on the same port and data dir; resolves once it answers (data loaded). */
  restart(): Promise<void>;
  /** A description for the figures (durability settings). */
  describe: string;
  /** The longest stall the server itself recorded for `event` (Redis LATENCY HISTORY, e.g. 'expire-cycle'), in ms; 0 if none. */
  maxLatencyMs(event: string): Promise<number>;
}

export interface ServerOptions {
  /** Redis: appendfsync policy with AOF on; undefined = no persistence. */
  appendfsync?: 'always' | 'everysec';
}

export interface ChaosBroker {
  name: string;
  /** Why the broker cannot be used here, or null. */
  unavailable: string | null;
  /** Why it cannot run a server of the suite's own (null when it can, or has no server). */
  serverUnavailable: string | null;
  /** True when the broker is a server (crash/stall act on the server, not on the processes). */
  hasServer: boolean;
  /** A fresh, isolated namespace; on `server` when given. Cleaned up by cleanupAll(). */
  namespace(label: string, server?: ChaosServer): Promise<ChaosNamespace>;
  /** Starts a server of the suite's own (brokers with hasServer only). */
  startServer?(options: ServerOptions): Promise<ChaosServer>;
}

// --- SQLite ---------------------------------------------------------------------

function sqliteNamespace(broker: ChaosBroker, label: string): ChaosNamespace {
  const file = join(tempDir(`sqlite-${label}`), 'errand.db');
  const open = (): Database.Database => {
    const db = new Database(file, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return db;
  };
  const withDb = <T>(fn: (db: Database.Database) => T): T => {
    const db = open();
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    broker,
    url: `sqlite://${file}`,
    async leased(owner) {
      return withDb((db) =>
        owner === undefined
          ? db.prepare<[], string>(`SELECT id FROM tasks WHERE state IN ('STARTED', 'PROGRESS')`).pluck().all()
          : db
              .prepare<[string], string>(`SELECT id FROM tasks WHERE state IN ('STARTED', 'PROGRESS') AND lease_owner = ?`)
              .pluck()
              .all(owner),
      );
    },
    async storage() {
      const counts = withDb((db) => ({
        taskRows: db.prepare<[], number>('SELECT count(*) FROM tasks').pluck().get()!,
        eventRows: db.prepare<[], number>('SELECT count(*) FROM events').pluck().get()!,
        pages: db.pragma('page_count', { simple: true }) as number,
        freePages: db.pragma('freelist_count', { simple: true }) as number,
      }));
      const size = (path: string): number => (existsSync(path) ? statSync(path).size : 0);
      return { ...counts, dbBytes: size(file), walBytes: size(`${file}-wal`) };
    },
    async integrity() {
      return withDb((db) => db.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>)
        .map((row) => row.integrity_check)
        .join('; ');
    },
    async prepareStall(ms) {
      // Another process holds the write lock; readers go on (WAL), writers wait on busy_timeout.
      const { proc } = await startNode('sqlite-lock', 'test/fixtures/chaos/sqlite-lock.ts', {
        DB_FILE: file,
        HOLD_MS: String(ms),
      });
      return {
        async begin() {
          const locked = proc.waitForLine(/^locked /, 10_000);
          const released = proc.waitForLine(/^released /, ms + 10_000);
          proc.signal('SIGUSR2');
          const startedAt = Number((await locked).split(' ')[1]);
          const endedAt = Number((await released).split(' ')[1]);
          await proc.exited;
          return { startedAt, endedAt, how: `BEGIN IMMEDIATE held ${ms} ms by another process` };
        },
      };
    },
  };
}

export const sqliteBroker: ChaosBroker = {
  name: 'sqlite',
  unavailable: null,
  serverUnavailable: null,
  hasServer: false,
  async namespace(label) {
    return sqliteNamespace(sqliteBroker, label);
  },
};

// --- Redis ------------------------------------------------------------------------

/** The shared Redis of the test suite (scenarios that crash or stall Redis start their own). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

function client(url: string): Redis {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  c.on('error', () => {});
  return c;
}

async function withClient<T>(url: string, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = client(url);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  return withClient(url, async (c) => (await c.ping()) === 'PONG').catch(() => false);
}

async function scanKeys(c: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await c.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

function redisNamespace(broker: ChaosBroker, label: string, server?: ChaosServer): ChaosNamespace {
  const prefix = `errand-chaos-${label}-${randomUUID().slice(0, 8)}`;
  const base = server?.url ?? REDIS_URL;
  const url = new URL(base);
  url.searchParams.set('prefix', prefix);
  if (!server) {
    onCleanupRedis(base, prefix);
  }
  return {
    broker,
    url: url.toString(),
    async leased(owner) {
      return withClient(base, async (c) => {
        const ids = await c.zrange(`{${prefix}}:leases`, 0, -1);
        if (ids.length === 0) return [];
        const pipeline = c.pipeline();
        for (const id of ids) pipeline.hget(`{${prefix}}:t:${id}`, 'm');
        const packed = (await pipeline.exec()) ?? [];
        // the state record m names its lease owner by token (see lua/common.ts)
        return ids.filter((_, i) => {
          const m = packed[i]?.[1];
          const record = typeof m === 'string' ? decodeStateRecord(m) : undefined;
          const running = record?.state === 'STARTED' || record?.state === 'PROGRESS';
          return running && (owner === undefined || record.owner === ownerToken(owner));
        });
      });
    },
    async storage() {
      return withClient(base, async (c) => {
        // a server of our own holds this namespace only: DBSIZE is exact and costs nothing
        const keys = server ? await c.dbsize() : (await scanKeys(c, prefix)).length;
        const memory = await c.info('memory');
        const used = Number(/^used_memory:(\d+)/m.exec(memory)?.[1] ?? 0);
        return { keys, usedMemoryBytes: used };
      });
    },
    async integrity() {
      return 'ok (not checked: Redis has no integrity check; the AOF was loaded on start)';
    },
    async prepareStall(ms) {
      // CLIENT PAUSE ALL holds every client's commands (reads too) on the server; only a server of our own.
      if (!server) throw new Error('stalling the shared Redis would stall every other test on it: use a ChaosServer');
      const c = client(base);
      await c.connect();
      return {
        async begin() {
          try {
            const startedAt = Date.now();
            await c.call('CLIENT', 'PAUSE', String(ms), 'ALL');
            await until('the pause to end', () => Date.now() >= startedAt + ms, ms + 1000);
            return { startedAt, endedAt: startedAt + ms, how: `CLIENT PAUSE ${ms} ALL` };
          } finally {
            c.disconnect();
          }
        },
      };
    },
  };
}

const redisPrefixes: Array<{ base: string; prefix: string }> = [];
function onCleanupRedis(base: string, prefix: string): void {
  redisPrefixes.push({ base, prefix });
}

/** Deletes the keys of every namespace made on the shared Redis. */
async function dropRedisPrefixes(): Promise<void> {
  for (const { base, prefix } of redisPrefixes.splice(0)) {
    await withClient(base, async (c) => {
      const keys = await scanKeys(c, prefix);
      for (let i = 0; i < keys.length; i += 1000) await c.unlink(...keys.slice(i, i + 1000));
    }).catch(() => {});
  }
}

const redisServerBinary = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;

async function startRedisServer(options: ServerOptions): Promise<ChaosServer> {
  const dir = tempDir('redis-server');
  const port = await freePort(6390);
  // latency-monitor-threshold: the server records its own stalls of 5 ms or more (LATENCY HISTORY)
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no'];
  args.push('--latency-monitor-threshold', '5');
  if (options.appendfsync) args.push('--appendonly', 'yes', '--appendfsync', options.appendfsync);
  else args.push('--appendonly', 'no');
  const url = `redis://127.0.0.1:${port}/0`;
  let proc: ChaosProcess;
  const launch = async (): Promise<void> => {
    proc = spawnProcess(`redis-server:${port}`, 'redis-server', args);
    await until('redis-server to answer', async () => proc.alive && (await redisAnswers(url)), 20_000, 50).catch((error) => {
      throw new Error(`${String(error)}\n${proc.output()}`);
    });
  };
  await launch();
  return {
    url,
    get pid() {
      return proc.pid;
    },
    async crash() {
      await proc.stop('SIGKILL');
    },
    restart: launch,
    describe: options.appendfsync ? `appendonly yes, appendfsync ${options.appendfsync}` : 'no persistence',
    async maxLatencyMs(event) {
      return withClient(url, async (c) => {
        const history = (await c.call('LATENCY', 'HISTORY', event)) as Array<[number, number]>;
        return Math.max(0, ...history.map(([, ms]) => Number(ms)));
      });
    },
  };
}

export const redisBroker: ChaosBroker = {
  name: 'redis',
  unavailable: (await redisAnswers(REDIS_URL))
    ? null
    : `Redis is not reachable at ${REDIS_URL} (set REDIS_URL or start redis-server)`,
  serverUnavailable: redisServerBinary ? null : 'no redis-server binary on PATH (apt-get install redis-server)',
  hasServer: true,
  async namespace(label, server) {
    return redisNamespace(redisBroker, label, server);
  },
  startServer: startRedisServer,
};

/** Every scenario runs once per entry. */
export const chaosBrokers: ChaosBroker[] = [sqliteBroker, redisBroker];

/**
 * One describe block per broker. A broker that cannot run here is skipped
 * with a printed reason, or fails when CI=true. Every child process and
 * server the suite started is stopped by pid after each test, pass or fail.
 */
export function describeChaos(
  scenario: string,
  body: (broker: ChaosBroker) => void,
  options: { needsServer?: boolean } = {},
): void {
  for (const broker of chaosBrokers) {
    const reason = broker.unavailable ?? (options.needsServer ? broker.serverUnavailable : null);
    describe(`${scenario}: ${broker.name}`, () => {
      afterEach(async () => {
        await cleanupAll();
        await dropRedisPrefixes();
      });
      if (reason === null) return body(broker);
      if (process.env.CI === 'true') {
        it(`needs ${broker.name}`, () => {
          throw new Error(`${reason}; CI=true, so this fails instead of skipping`);
        });
        return;
      }
      console.warn(`[skip] ${scenario} on ${broker.name}: ${reason}`);
      it.skip(`needs ${broker.name}: ${reason}`, () => {});
    });
  }
}
