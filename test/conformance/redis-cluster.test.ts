import { cleanupClusterUrl, describeRedisCluster } from '../support/redis-cluster.js';
import { describeConformance } from './conformance.js';

// The whole conformance suite on a local 3-master Redis Cluster of its own,
// started once for this file and stopped at its end (test/support/redis-cluster.ts).
await describeRedisCluster('redis-cluster', (cluster) =>
  describeConformance({ name: 'redis-cluster', makeUrl: () => cluster.url('conf'), cleanup: cleanupClusterUrl }),
);
