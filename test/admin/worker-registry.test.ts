import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';
import { startChild, stopChild, type Child } from '../support/child.js';
import { waitFor } from '../support/wait.js';

const opened: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
});

it('a SIGKILLed worker process leaves the worker list within 30 s; a live one stays in it', async () => {
  const file = join(tmpdir(), `errand-registry-${randomUUID()}`, 'errand.db');
  const url = `sqlite://${file}`;
  const app: Errand = createApp({ broker: url, logger: false });
  opened.push(async () => {
    await app.close();
    rmSync(dirname(file), { recursive: true, force: true });
  });
  const env = { BROKER_URL: url, LOG_FILE: join(dirname(file), 'log') };
  const children: Child[] = [
    await startChild('test/fixtures/conformance-worker.ts', env),
    await startChild('test/fixtures/conformance-worker.ts', env),
  ];
  opened.push(async () => {
    for (const child of children) await stopChild(child);
  });
  await waitFor(async () => (await app.admin.workers()).length === 2, 10_000);
  const [victim, survivor] = children as [Child, Child];
  const killedAt = Date.now();
  await stopChild(victim, 'SIGKILL');
  await waitFor(async () => (await app.admin.workers()).length === 1, 30_000, 'the dead worker to leave the list');
  expect(Date.now() - killedAt).toBeLessThan(30_000);
  const [left] = await app.admin.workers();
  expect(left!.pid).toBe(survivor.process.pid);
  expect(Date.now() - left!.heartbeatAt).toBeLessThan(10_000);
}, 60_000);
