import { broker } from '../support/brokers.js';
import { describeConformance } from './conformance.js';

const target = broker('postgres');
target.describe('postgres', () =>
  describeConformance({ name: target.name, makeUrl: () => target.makeUrl('conf'), cleanup: target.cleanup }),
);
