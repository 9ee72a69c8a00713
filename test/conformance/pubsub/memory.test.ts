import { broker } from '../../support/brokers.js';
import { describePubSubContract } from './contract.js';
import { memoryTarget } from './targets.js';

describePubSubContract(memoryTarget(broker('memory')));
