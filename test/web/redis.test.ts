import { describeRedis, uniqueRedisUrl } from '../support/redis.js';
import { describeWebSuite } from './web-suite.js';

describeRedis('web on redis', () => {
  describeWebSuite({ name: 'redis', makeUrl: () => uniqueRedisUrl('web'), separateWorker: true });
});
