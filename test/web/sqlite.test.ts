import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWebSuite } from './web-suite.js';

describeWebSuite({
  name: 'sqlite',
  makeUrl: () => `sqlite://${join(tmpdir(), `errand-web-${randomUUID()}.db`)}`,
  separateWorker: true,
  async cleanup(url) {
    const file = url.slice('sqlite://'.length);
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  },
});
