import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startDemo, tempSqliteBroker, type RunningDemo } from '../fixtures/app/demo-env.js';
import { waitFor } from '../support/wait.js';
import { processAlive } from '../support/child.js';

// `npm start` supervises two processes; these pin how it starts and stops them.
function pids(output: string): { web: number; worker: number } {
  const find = (name: string): number => Number(new RegExp(`start: ${name} pid=(\\d+)`).exec(output)?.[1]);
  return { web: find('web'), worker: find('worker') };
}

describe('app/start.ts', () => {
  const broker = tempSqliteBroker();
  let demo: RunningDemo | undefined;

  afterEach(async () => {
    await demo?.stop();
    demo = undefined;
  });

  afterAll(() => broker.cleanup());

  it('runs web and worker as separate processes and stops both on SIGTERM', async () => {
    demo = await startDemo({ ERRAND_BROKER: broker.url, DEMO_API_DELAY_MS: '10' });
    const { web, worker } = pids(demo.supervisor.output());
    expect(web).not.toBe(worker);
    expect(processAlive(web) && processAlive(worker)).toBe(true);
    const res = await fetch(`${demo.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(await demo.stop()).toBe(0);
    const out = demo.supervisor.output();
    expect(out).toContain('worker: SIGTERM, shutting down');
    expect(out).toContain('web: SIGTERM, shutting down');
    expect(processAlive(web) || processAlive(worker)).toBe(false);
  });

  it('exits, stopping the web process, when the worker dies', async () => {
    demo = await startDemo({ ERRAND_BROKER: broker.url });
    const { web, worker } = pids(demo.supervisor.output());
    process.kill(worker, 'SIGKILL');
    const code = await demo.supervisor.exited;
    expect(code).not.toBe(0);
    expect(demo.supervisor.output()).toContain('start: worker exited (SIGKILL); stopping the rest');
    await waitFor(() => !processAlive(web), 5000, 'the web process to exit');
  });
});
