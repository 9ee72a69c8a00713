import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, MemoryBackend, RedisBackend, SqliteBackend, openBroker } from '../../src/index.js';

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
    expect(() => openBroker('postgres://localhost/db', options)).toThrow(ConfigError);
    expect(() => openBroker('sqlite://', options)).toThrow(/names no database file/);
    expect(() => openBroker('sqlite://./x.db?pollIntervalMs=fast', options)).toThrow(/pollIntervalMs/);
  });
});
