import { describeOnRedisCluster } from '../support/brokers.js';
import { describeConformance } from './conformance.js';

// on a local 3-master Redis Cluster of this file's own, started here and stopped at its end
await describeOnRedisCluster(describeConformance);
