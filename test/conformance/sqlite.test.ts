import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeConformance } from './conformance.js';

describeConformance({
  name: 'sqlite',
  // a directory of its own per test, so the -wal and -shm files go with it
  makeUrl: () => `sqlite://${join(tmpdir(), `errand-conf-sqlite-${randomUUID()}`, 'errand.db')}`,
  cleanup: async (url) => rmSync(dirname(url.slice('sqlite://'.length)), { recursive: true, force: true }),
});
