import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanupPrefix, describeRedis, uniqueRedisUrl } from '../support/redis.js';
import { describeCallbacks } from './callbacks-suite.js';

describeCallbacks('memory', () => 'memory://');
describeCallbacks(
  'sqlite',
  () => `sqlite://${join(tmpdir(), `errand-cb-${randomUUID()}`, 'errand.db')}`,
  async (url) => rmSync(dirname(url.slice('sqlite://'.length)), { recursive: true, force: true }),
);
describeRedis('redis', () => {
  describeCallbacks(
    'redis',
    () => uniqueRedisUrl('cb'),
    async (url) => cleanupPrefix(new URL(url).searchParams.get('prefix')!),
  );
});
