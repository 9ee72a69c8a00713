import { describeWebSuite } from './web-suite.js';

describeWebSuite({ name: 'memory', makeUrl: () => 'memory://', separateWorker: false });
