import { expect, it } from 'vitest';
import { ConfigError, createApp } from '../../src/index.js';

it('a worker runs the higher priority first: the task’s default, overridden per call; bad priorities are refused', async () => {
  const app = createApp({ broker: 'memory://', logger: false });
  try {
    const order: string[] = [];
    const urgent = app.task('p.urgent', (_ctx, key: string) => void order.push(key), { priority: 10 });
    const normal = app.task('p.normal', (_ctx, key: string) => void order.push(key));
    await normal.delay('n1');
    await urgent.delay('u1');
    await normal.applyAsync(['n2'], { priority: 20 });
    await urgent.applyAsync(['u2'], { priority: 0 });
    await normal.delay('n3');
    const worker = app.worker({ handleSignals: false, concurrency: 1, claimWaitMs: 20, report: false });
    await worker.start();
    const deadline = Date.now() + 5000;
    while (order.length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await worker.stop();
    expect(order).toEqual(['n2', 'u1', 'n1', 'u2', 'n3']);
    expect(() => app.task('p.bad', () => 1, { priority: 1.5 })).toThrow(ConfigError);
    await expect(normal.applyAsync(['x'], { priority: 5000 })).rejects.toThrow(/priority must be an integer from -1000 to 1000/);
  } finally {
    await app.close();
  }
});
