import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanupPrefix, describeRedis, uniqueRedisUrl } from '../support/redis.js';
import { describeFeedRoutes } from './feeds-suite.js';
import { ADAPTERS } from './web-support.js';

for (const adapter of ADAPTERS) describeFeedRoutes({ name: 'memory', makeUrl: () => 'memory://' }, adapter);
describeFeedRoutes(
  {
    name: 'sqlite',
    makeUrl: () => `sqlite://${join(tmpdir(), `errand-feeds-${randomUUID()}`, 'errand.db')}`,
    cleanup: async (url) => rmSync(dirname(url.slice('sqlite://'.length)), { recursive: true, force: true }),
  },
  'fastify',
);
describeRedis('redis', () => {
  describeFeedRoutes(
    {
      name: 'redis',
      makeUrl: () => uniqueRedisUrl('feeds'),
      cleanup: async (url) => cleanupPrefix(new URL(url).searchParams.get('prefix')!),
    },
    'fastify',
  );
});
