import { broker, BROKERS } from '../support/brokers.js';
import { describeFeedRoutes } from './feeds-suite.js';
import { ADAPTERS } from './web-support.js';

// Every adapter on memory; Fastify on each broker that other processes share.
const memory = broker('memory');
for (const adapter of ADAPTERS) describeFeedRoutes({ name: memory.name, makeUrl: () => memory.makeUrl() }, adapter);
for (const target of BROKERS.filter((b) => b.crossProcess)) {
  target.describe(`feeds on ${target.name}`, () =>
    describeFeedRoutes({ name: target.name, makeUrl: () => target.makeUrl('feeds'), cleanup: target.cleanup }, 'fastify'),
  );
}
