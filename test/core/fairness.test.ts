import { expect, it } from 'vitest';
import type { Errand } from '../../src/index.js';
import { closeAfterEach, openTargetApp } from '../support/apps.js';
import { describeEachBroker } from '../support/brokers.js';
import { waitFor } from '../support/wait.js';

const opened = closeAfterEach();

/**
 * The fairness test, through a worker on every broker: tenant A
 * enqueues 10,000 tasks, then tenant B 10; B's all finish before A's 500th.
 * The bound errand keeps is tighter (groups take turns claim by claim, see
 * docs/tasks.md): about B's count plus what one worker holds in flight.
 */
describeEachBroker('two tenants, 10,000 tasks and 10', (target) => {
  it("B's 10 tasks all finish before A's 500th (in fact within A's first 50)", async () => {
    const app: Errand = openTargetApp(target, 'tenants', opened);
    const done: string[] = [];
    const job = app.task('tenant.job', (_ctx, tenant: string) => void done.push(tenant), {
      fairness: { key: (tenant: string) => tenant },
    });
    for (let i = 0; i < 10; i++) await job.delayMany(Array.from({ length: 1_000 }, () => ['A']));
    await job.delayMany(Array.from({ length: 10 }, () => ['B']));
    const worker = app.worker({ handleSignals: false, concurrency: 10, claimWaitMs: 200 });
    await worker.start();
    opened.push(() => worker.stop({ graceMs: 0 }));
    await waitFor(() => done.filter((t) => t === 'B').length === 10, 60_000, "B's tasks");
    const aBefore = done.slice(0, done.lastIndexOf('B')).filter((t) => t === 'A').length;
    expect(aBefore).toBeLessThan(500);
    expect(aBefore).toBeLessThanOrEqual(50);
  }, 120_000);
});
