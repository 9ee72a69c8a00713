import { describeOnRedisCluster } from '../../support/brokers.js';
import { describePubSubContract } from './contract.js';
import { redisTarget } from './targets.js';

// on a local 3-master Redis Cluster of this file's own, started here and stopped at its end
await describeOnRedisCluster((cluster) => describePubSubContract(redisTarget(cluster)));
