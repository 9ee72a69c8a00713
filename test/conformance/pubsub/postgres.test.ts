import { broker } from '../../support/brokers.js';
import { describePubSubContract } from './contract.js';
import { postgresTarget } from './targets.js';

describePubSubContract(postgresTarget(broker('postgres')));
