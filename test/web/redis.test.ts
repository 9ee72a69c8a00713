import { broker } from '../support/brokers.js';
import { describeWebSuite } from './web-suite.js';

// The status routes through Fastify, with the worker in a child process.
const target = broker('redis');
target.describe('web on redis', () =>
  describeWebSuite({ name: target.name, makeUrl: () => target.makeUrl('web'), separateWorker: true, cleanup: target.cleanup }),
);
