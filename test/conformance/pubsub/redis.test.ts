import { broker } from '../../support/brokers.js';
import { describePubSubContract } from './contract.js';
import { redisTarget } from './targets.js';

describePubSubContract(redisTarget(broker('redis')));
