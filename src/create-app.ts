import { pino } from 'pino';
import type { Backend, BackendOptions } from './core/backend.js';
import { ConfigError } from './core/errors.js';
import { Errand, type ErrandOptions } from './core/errand.js';
import type { Logger } from './core/logger.js';
import { MemoryBackend } from './backends/memory/memory-backend.js';
import { RedisBackend } from './backends/redis/index.js';
import { SqliteBackend } from './backends/sqlite/index.js';

export const DEFAULT_BROKER = 'sqlite://./.errand/errand.db';

export interface CreateAppOptions extends Omit<ErrandOptions, 'logger'> {
  /**
   * Where tasks live: 'sqlite://./path.db' (relative) or 'sqlite:///abs/path.db'
   * (add '?pollIntervalMs=N' to change how often other processes' commits are checked, default 5),
   * 'redis://host:port/db?prefix=errand', 'memory://', or a Backend instance.
   * Default: $ERRAND_BROKER, else sqlite://./.errand/errand.db. A Backend
   * instance stays the caller's: app.close() does not close it.
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
  const broker = options.broker ?? process.env.ERRAND_BROKER ?? DEFAULT_BROKER;
  const backend = typeof broker === 'string' ? openBroker(broker, backendOptions) : broker;
  const logger =
    options.logger === false
      ? undefined
      : (options.logger ?? pino({ name: 'errand', level: process.env.ERRAND_LOG_LEVEL ?? 'warn' }));
  return new Errand(backend, { payloadLimitBytes: options.payloadLimitBytes, logger, ownsBackend: typeof broker === 'string' });
}

/** Opens the backend a broker URL names. */
export function openBroker(url: string, options: BackendOptions): Backend {
  const scheme = url.slice(0, url.indexOf('://'));
  switch (scheme) {
    case 'memory':
      return new MemoryBackend(options);
    case 'sqlite': {
      const [filename = '', query = ''] = url.slice('sqlite://'.length).split('?', 2);
      if (filename.length === 0) throw new ConfigError(`broker URL "${url}" names no database file`);
      const poll = new URLSearchParams(query).get('pollIntervalMs');
      const pollIntervalMs = poll === null ? undefined : positive('pollIntervalMs', Number(poll));
      return new SqliteBackend({ ...options, filename, pollIntervalMs });
    }
    case 'redis':
    case 'rediss': {
      const parsed = new URL(url);
      const prefix = parsed.searchParams.get('prefix') ?? undefined;
      parsed.searchParams.delete('prefix');
      return new RedisBackend({ ...options, url: parsed.toString(), prefix });
    }
    default:
      throw new ConfigError(`unsupported broker URL "${url}": use sqlite://, redis:// or memory://`);
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a number > 0, got ${value}`);
  return value;
}
