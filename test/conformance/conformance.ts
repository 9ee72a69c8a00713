import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe } from 'vitest';
import { createApp, type BackendCapabilities, type CreateAppOptions, type Errand } from '../../src/index.js';
import type { BrokerTarget } from '../support/brokers.js';
import { describeBackendCases } from './backend/index.js';
import { describeEngineCases } from './engine/index.js';
import type { Env, Setup } from './seam.js';
import { defineConformanceTasks } from './tasks.js';

/**
 * The semantics every broker shares, in two halves: engine-level cases
 * (engine/: through createApp, tasks and workers, some in child processes)
 * and backend-level cases (backend/: the Backend seam driven directly, on
 * `app.backend`). Each test gets its own namespace (a database file, a key
 * prefix, a schema) and closes every app and worker it made. What the broker
 * can do is read once from its backend's `capabilities`; the cases a broker
 * lacks the capability for are skipped.
 */
export function describeConformance(target: BrokerTarget): void {
  target.describe(target.name, () =>
    // async: vitest awaits the probe before it collects the cases
    describe(`conformance: ${target.name}`, async () => {
      const broker = { name: target.name, capabilities: await probeCapabilities(target) };
      const setup = useSetup(target);
      describe('engine', () => describeEngineCases(setup, broker));
      describe('backend', () => describeBackendCases(setup, broker));
    }),
  );
}

/**
 * The capabilities of the broker's backend, from a probe app on a namespace
 * of its own; they must agree with what the BrokerTarget declares for the
 * other suites (test/support/brokers.ts).
 */
async function probeCapabilities(target: BrokerTarget): Promise<BackendCapabilities> {
  const url = target.makeUrl('probe');
  const probe = createApp({ broker: url, logger: false });
  const capabilities = { ...probe.backend.capabilities };
  await probe.close();
  await target.cleanup?.(url);
  const declared = { crossProcess: target.crossProcess, transactionalEnqueue: target.transactionalEnqueue };
  const actual = { crossProcess: capabilities.crossProcess, transactionalEnqueue: capabilities.transactionalEnqueue === true };
  if (declared.crossProcess !== actual.crossProcess || declared.transactionalEnqueue !== actual.transactionalEnqueue) {
    throw new Error(
      `test/support/brokers.ts declares ${target.name} as ${JSON.stringify(declared)}, its backend says ${JSON.stringify(actual)}`,
    );
  }
  return capabilities;
}

/** The Setup every case calls: a fresh namespace and an app on it, all closed and dropped after the test. */
function useSetup(target: BrokerTarget): Setup {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  return async function setup(options: Omit<CreateAppOptions, 'broker'> = {}): Promise<Env> {
    const url = target.makeUrl('conf');
    const log = join(tmpdir(), `errand-conf-${randomUUID()}.log`);
    const apps: Errand[] = [];
    const open = (opts: Omit<CreateAppOptions, 'broker'>): Errand => {
      // A broker that is not shared between processes is shared by handing over the instance.
      const shared = apps[0] && !apps[0].backend.capabilities.crossProcess ? apps[0].backend : url;
      const app = createApp({ logger: false, ...options, ...opts, broker: shared });
      apps.push(app);
      return app;
    };
    const app = open({});
    const tasks = defineConformanceTasks(app, log);
    cleanups.push(async () => {
      for (const a of apps.reverse()) await a.close();
      await target.cleanup?.(url);
      rmSync(log, { force: true });
    });
    return {
      url,
      log,
      app,
      tasks,
      async worker(workerOptions = {}) {
        const w = app.worker({ handleSignals: false, claimWaitMs: 200, ...workerOptions });
        await w.start();
        return w;
      },
      otherApp: (opts = {}) => open(opts),
      lines: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    };
  };
}
