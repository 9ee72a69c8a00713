import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pino } from 'pino';
import type { Backend, BackendOptions } from './core/backend.js';
import { ConfigError } from './core/errors.js';
import { Errand, type ErrandOptions } from './core/errand.js';
import { silentLogger, type Logger } from './core/logger.js';
import { MemoryBackend } from './backends/memory/memory-backend.js';
// Neither adapter loads its driver on import: better-sqlite3 (an optional peer
// dependency, native) is required only when a sqlite:// broker is opened.
import { RedisBackend } from './backends/redis/index.js';
import { SqliteBackend } from './backends/sqlite/index.js';
// pg (an optional peer dependency) is required only when a postgres:// broker is opened.
import { PostgresBackend } from './backends/postgres/index.js';
import { cronPlanner } from './beat/cron-planner.js';
import { httpCallbackSender } from './callbacks/http-sender.js';

export const DEFAULT_BROKER = 'sqlite://./.errand/errand.db';

// No clock: only the memory broker could follow one (errand/testing builds that app itself).
export interface CreateAppOptions extends Omit<ErrandOptions, 'logger' | 'clock' | 'cronPlanner' | 'callbackSender'> {
  /**
   * Where tasks live: 'sqlite://./path.db' (relative to the current directory) or 'sqlite:///abs/path.db'
   * (add '?pollIntervalMs=N' to change how often other processes' commits are checked, default 5),
   * 'redis://host:port/db?prefix=errand' (also '&family=4|6|0'),
   * 'redis+cluster://host:port,host:port/?prefix=errand' for a Redis Cluster (rediss+cluster:// for TLS),
   * 'postgres://user:pass@host:5432/db?schema=errand' (also postgresql://; '&pollIntervalMs=N' sets the
   * fallback poll, default 1000; '&sslmode=…' goes to pg), 'memory://', or a Backend instance.
   * Any other URL parameter is a ConfigError. Default: $ERRAND_BROKER, else
   * sqlite://./.errand/errand.db. A Backend instance stays the caller's:
   * app.close() does not close it.
   */
  broker?: string | Backend;
  /** How long finished tasks and their results are kept (default 24 h). */
  resultTtlMs?: number;
  /** How many dead letters are kept (default 1000). */
  deadLetterLimit?: number;
  /** A pino-compatible logger, or false for none (default: pino at $ERRAND_LOG_LEVEL or 'warn'). */
  logger?: Logger | false;
}

/** Creates an errand app on the broker its options name. */
export function createApp(options: CreateAppOptions = {}): Errand {
  const backendOptions: BackendOptions = {
    resultTtlMs: positive('resultTtlMs', options.resultTtlMs ?? 24 * 60 * 60 * 1000),
    deadLetterLimit: positive('deadLetterLimit', options.deadLetterLimit ?? 1000),
  };
  const logger = options.logger === false ? undefined : (options.logger ?? defaultLogger());
  const broker = options.broker ?? process.env.ERRAND_BROKER ?? DEFAULT_BROKER;
  const backend = typeof broker === 'string' ? openBroker(broker, backendOptions, logger) : broker;
  return new Errand(backend, {
    payloadLimitBytes: options.payloadLimitBytes,
    logger,
    ownsBackend: typeof broker === 'string',
    idempotency: options.idempotency,
    channels: options.channels,
    cronPlanner,
    callbacks: options.callbacks,
    callbackSender: httpCallbackSender({ allow: options.callbacks?.allow }),
  });
}

/**
 * pino at $ERRAND_LOG_LEVEL (default 'warn'): JSON lines, or pino-pretty's
 * colours when stdout is a terminal and pino-pretty is installed.
 */
function defaultLogger(): Logger {
  const level = process.env.ERRAND_LOG_LEVEL ?? 'warn';
  if (process.stdout.isTTY && canResolve('pino-pretty')) {
    return pino({ name: 'errand', level, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino({ name: 'errand', level });
}

function canResolve(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** The query parameters each broker URL scheme understands; any other is a ConfigError. */
const KNOWN_PARAMETERS: Record<string, readonly string[]> = {
  memory: [],
  sqlite: ['pollIntervalMs'],
  redis: ['prefix', 'family'],
  rediss: ['prefix', 'family'],
  'redis+cluster': ['prefix', 'family'],
  'rediss+cluster': ['prefix', 'family'],
  postgres: ['schema', 'pollIntervalMs', 'sslmode'],
  postgresql: ['schema', 'pollIntervalMs', 'sslmode'],
};

/**
 * Opens the backend a broker URL names. A relative SQLite path is resolved
 * against the current directory, and the resolved path is logged at info level.
 */
export function openBroker(url: string, options: BackendOptions, logger: Logger = silentLogger): Backend {
  const scheme = url.slice(0, Math.max(0, url.indexOf('://')));
  const known = KNOWN_PARAMETERS[scheme];
  if (known === undefined) {
    throw new ConfigError(
      `unsupported broker URL "${redact(url)}": use sqlite://, redis://, rediss://, redis+cluster://, postgres:// or memory://`,
    );
  }
  const queryAt = url.indexOf('?');
  const params = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
  for (const name of params.keys()) {
    if (!known.includes(name)) {
      const expected = known.length === 0 ? `${scheme}:// takes none` : `known for ${scheme}://: ${known.join(', ')}`;
      throw new ConfigError(`unknown parameter "${name}" in broker URL "${redact(url)}" (${expected})`);
    }
  }
  switch (scheme) {
    case 'memory':
      return new MemoryBackend(options);
    case 'sqlite': {
      const path = url.slice('sqlite://'.length, queryAt === -1 ? undefined : queryAt);
      if (path.length === 0) throw new ConfigError(`broker URL "${url}" names no database file`);
      const poll = params.get('pollIntervalMs');
      const pollIntervalMs = poll === null ? undefined : positive('pollIntervalMs', Number(poll));
      let filename = path;
      if (path !== ':memory:' && !isAbsolute(path)) {
        filename = resolve(path);
        logger.info({ broker: 'sqlite', filename }, `sqlite broker file: ${filename}`);
      }
      return new SqliteBackend({ ...options, filename, pollIntervalMs });
    }
    case 'postgres':
    case 'postgresql': {
      const parsed = new URL(url);
      const schema = parsed.searchParams.get('schema') ?? undefined;
      const poll = parsed.searchParams.get('pollIntervalMs');
      const pollIntervalMs = poll === null ? undefined : positive('pollIntervalMs', Number(poll));
      parsed.searchParams.delete('schema');
      parsed.searchParams.delete('pollIntervalMs');
      return new PostgresBackend({ ...options, url: parsed.toString(), schema, pollIntervalMs });
    }
    case 'redis+cluster':
    case 'rediss+cluster': {
      // seeds host:port,host:port are no WHATWG URL host: the URL goes to the backend as it is, less prefix
      const prefix = params.get('prefix') ?? undefined;
      params.delete('prefix');
      checkFamily(url, params.get('family'));
      const rest = params.toString();
      const base = queryAt === -1 ? url : url.slice(0, queryAt);
      return new RedisBackend({ ...options, url: rest ? `${base}?${rest}` : base, prefix });
    }
    default: {
      const parsed = new URL(url);
      const prefix = parsed.searchParams.get('prefix') ?? undefined;
      parsed.searchParams.delete('prefix');
      checkFamily(url, parsed.searchParams.get('family'));
      return new RedisBackend({ ...options, url: parsed.toString(), prefix });
    }
  }
}

function checkFamily(url: string, family: string | null): void {
  if (family !== null && !['0', '4', '6'].includes(family)) {
    throw new ConfigError(`family in broker URL "${redact(url)}" must be 4, 6 or 0 (either), got "${family}"`);
  }
}

/** The URL with its password, if any, hidden: it goes into error messages. */
function redact(url: string): string {
  // a cluster URL's host list is no URL host
  if (/^rediss?\+cluster:/.test(url)) return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a number > 0, got ${value}`);
  return value;
}
