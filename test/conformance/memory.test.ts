import { broker } from '../support/brokers.js';
import { describeConformance } from './conformance.js';

const target = broker('memory');
target.describe('memory', () =>
  describeConformance({ name: target.name, makeUrl: () => target.makeUrl('conf'), cleanup: target.cleanup }),
);
