import { describeConformance } from './conformance.js';

describeConformance({ name: 'memory', makeUrl: () => 'memory://' });
