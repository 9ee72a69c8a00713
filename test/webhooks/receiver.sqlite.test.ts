import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeReceiver } from './receiver-suite.js';

describeReceiver({
  name: 'sqlite',
  makeUrl: () => `sqlite://${join(tmpdir(), `errand-hooks-${randomUUID()}`, 'errand.db')}`,
  cleanup: async (url) => rmSync(dirname(url.slice('sqlite://'.length)), { recursive: true, force: true }),
});
