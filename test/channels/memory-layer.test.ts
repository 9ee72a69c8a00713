import { createMemoryChannelLayer } from '../../src/channels/index.js';
import { describeChannelLayer } from './channel-suite.js';

describeChannelLayer({
  name: 'memory',
  async open(options) {
    const layer = createMemoryChannelLayer(options);
    return { a: layer, b: layer };
  },
});
