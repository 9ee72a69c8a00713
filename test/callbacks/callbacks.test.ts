import { describeEachBroker } from '../support/brokers.js';
import { describeCallbacks } from './callbacks-suite.js';

describeEachBroker('callbacks', (target) => describeCallbacks(target.name, () => target.makeUrl('cb'), target.cleanup));
