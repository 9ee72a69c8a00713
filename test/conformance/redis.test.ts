import { cleanupPrefix, describeRedis, uniqueRedisUrl } from '../support/redis.js';
import { describeConformance } from './conformance.js';

describeRedis('redis', () => {
  describeConformance({
    name: 'redis',
    makeUrl: () => uniqueRedisUrl('conf'),
    cleanup: async (url) => cleanupPrefix(new URL(url).searchParams.get('prefix')!),
  });
});
