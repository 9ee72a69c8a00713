import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, MemoryBackend, RedisBackend, SqliteBackend, createApp, openBroker, type Logger } from '../../src/index.js';

const options = { resultTtlMs: 1000, deadLetterLimit: 10 };

describe('openBroker', () => {
  it('opens the adapter each URL names', async () => {
    const dir = join(tmpdir(), `errand-url-${randomUUID()}`);
    const sqlite = openBroker(`sqlite://${dir}/a.db?pollIntervalMs=2`, options);
    expect(sqlite).toBeInstanceOf(SqliteBackend);
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
    expect(openBroker('memory://', options)).toBeInstanceOf(MemoryBackend);
    const redis = openBroker('redis://127.0.0.1:6379/0?prefix=url-test', options);
    expect(redis).toBeInstanceOf(RedisBackend);
    await redis.close();
  });

  it('refuses what it cannot open with a ConfigError naming the problem', () => {
    expect(() => openBroker('mysql://localhost/db', options)).toThrow(ConfigError);
    expect(() => openBroker('mysql://localhost/db', options)).toThrow(/postgres:\/\//);
    expect(() => openBroker('sqlite://', options)).toThrow(/names no database file/);
    expect(() => openBroker('sqlite://./x.db?pollIntervalMs=fast', options)).toThrow(/pollIntervalMs/);
  });
});

describe('broker URL parameters', () => {
  it('refuses an unknown parameter, naming it and the known ones', () => {
    const cases: Array<[string, RegExp]> = [
      ['redis://127.0.0.1:6379/0?prefx=a', /unknown parameter "prefx".*prefix, family/],
      ['rediss://127.0.0.1:6379/0?prefix=a&tls=1', /unknown parameter "tls".*prefix, family/],
      ['sqlite://./x.db?pollInterval=5', /unknown parameter "pollInterval".*pollIntervalMs/],
      ['sqlite:///tmp/x.db?pollIntervalMs=5&mode=ro', /unknown parameter "mode".*pollIntervalMs/],
      ['memory://?size=10', /unknown parameter "size".*memory:\/\/ takes none/],
      ['postgres://127.0.0.1/test?schem=x', /unknown parameter "schem".*schema, pollIntervalMs, sslmode/],
    ];
    for (const [url, message] of cases) {
      expect(() => openBroker(url, options), url).toThrow(ConfigError);
      expect(() => openBroker(url, options), url).toThrow(message);
    }
  });

  it('keeps a Redis password out of the message', () => {
    expect(() => openBroker('redis://:hunter2@127.0.0.1:6379/0?prefx=a', options)).toThrow(/redis:\/\/:\*\*\*@127\.0\.0\.1/);
    expect(() => openBroker('redis://:hunter2@127.0.0.1:6379/0?prefx=a', options)).not.toThrow(/hunter2/);
  });

  it('checks the Redis address family', () => {
    expect(() => openBroker('redis://127.0.0.1:6379/0?family=5', options)).toThrow(/family .* must be 4, 6 or 0/);
  });
});

describe('a relative SQLite path', () => {
  function recordingLogger(): Logger & { infos: Array<{ obj: object; msg?: string }> } {
    const infos: Array<{ obj: object; msg?: string }> = [];
    return { infos, debug() {}, info: (obj, msg) => infos.push({ obj, msg }), warn() {}, error() {} };
  }

  it('is resolved against the current directory and logged once at info level', async () => {
    const dir = join(tmpdir(), `errand-rel-${randomUUID()}`);
    const relativePath = relative(process.cwd(), join(dir, 'a.db'));
    expect(relativePath.startsWith('/')).toBe(false);
    const logger = recordingLogger();
    const app = createApp({ broker: `sqlite://${relativePath}?pollIntervalMs=2`, logger });
    try {
      const logged = logger.infos.filter((entry) => entry.msg?.includes('sqlite broker file'));
      expect(logged).toHaveLength(1);
      expect(logged[0]!.obj).toEqual({ broker: 'sqlite', filename: resolve(relativePath) });
      expect(logged[0]!.msg).toContain(join(dir, 'a.db'));
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not logged when the path is absolute', async () => {
    const dir = join(tmpdir(), `errand-abs-${randomUUID()}`);
    const logger = recordingLogger();
    const app = createApp({ broker: `sqlite://${dir}/a.db`, logger });
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    expect(logger.infos.filter((entry) => entry.msg?.includes('sqlite broker file'))).toHaveLength(0);
  });
});
