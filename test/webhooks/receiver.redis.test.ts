import { cleanupPrefix, describeRedis, uniqueRedisUrl } from '../support/redis.js';
import { describeReceiver } from './receiver-suite.js';

describeRedis('redis', () => {
  describeReceiver({
    name: 'redis',
    makeUrl: () => uniqueRedisUrl('hooks'),
    cleanup: async (url) => cleanupPrefix(new URL(url).searchParams.get('prefix')!),
  });
});
