import { ADAPTERS } from './web-support.js';
import { describeWebSuite } from './web-suite.js';

// Every adapter on the memory broker; sqlite, redis and postgres.test.ts run the Fastify adapter on theirs.
for (const adapter of ADAPTERS) describeWebSuite({ name: 'memory', makeUrl: () => 'memory://', separateWorker: false }, adapter);
