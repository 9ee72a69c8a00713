import { describe, expect, it } from 'vitest';
import { BrokerError, createApp, MemoryBackend } from '../../src/index.js';

describe('worker start', () => {
  it('stays startable when the broker fails during start', async () => {
    const backend = new MemoryBackend({ resultTtlMs: 60_000, deadLetterLimit: 10 });
    let fail = true;
    const rescue = backend.rescueExpired.bind(backend);
    backend.rescueExpired = async () => {
      if (fail) throw new BrokerError('broker down');
      return rescue();
    };
    const app = createApp({ broker: backend, logger: false });
    const add = app.task('add', (_ctx, a: number, b: number) => a + b);
    const worker = app.worker({ handleSignals: false });
    await expect(worker.start()).rejects.toBeInstanceOf(BrokerError);
    expect(worker.state).toBe('idle');
    fail = false;
    await worker.start();
    expect(worker.state).toBe('running');
    expect(await (await add.delay(2, 3)).get({ timeout: 5000 })).toBe(5);
    await app.close();
    await backend.close();
  });
});
