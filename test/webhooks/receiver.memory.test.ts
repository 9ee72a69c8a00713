import { describeReceiver } from './receiver-suite.js';

describeReceiver({ name: 'memory', makeUrl: () => 'memory://' });
