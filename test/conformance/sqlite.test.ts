import { broker } from '../support/brokers.js';
import { describeConformance } from './conformance.js';

const target = broker('sqlite');
target.describe('sqlite', () =>
  describeConformance({ name: target.name, makeUrl: () => target.makeUrl('conf'), cleanup: target.cleanup }),
);
