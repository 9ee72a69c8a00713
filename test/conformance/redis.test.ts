import { broker } from '../support/brokers.js';
import { describeConformance } from './conformance.js';

describeConformance(broker('redis'));
