import { broker } from '../support/brokers.js';
import { describeConformance } from './conformance.js';

const target = broker('redis');
target.describe('redis', () =>
  describeConformance({ name: target.name, makeUrl: () => target.makeUrl('conf'), cleanup: target.cleanup }),
);
