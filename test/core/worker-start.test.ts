import { describe, expect, it } from 'vitest';
import { BrokerError, ConfigError, createApp, MemoryBackend, ShutdownError } from '../../src/index.js';

function flakyBackend(failures: number): { backend: MemoryBackend; calls: () => number } {
  const backend = new MemoryBackend({ resultTtlMs: 60_000, deadLetterLimit: 10 });
  let calls = 0;
  const rescue = backend.rescueExpired.bind(backend);
  backend.rescueExpired = async () => {
    calls++;
    if (calls <= failures) throw new BrokerError('broker down');
    return rescue();
  };
  return { backend, calls: () => calls };
}

describe('worker start', () => {
  it('waits for an unreachable broker, retrying with backoff, then runs tasks', async () => {
    const { backend, calls } = flakyBackend(3);
    const app = createApp({ broker: backend, logger: false });
    const add = app.task('add', (_ctx, a: number, b: number) => a + b);
    const worker = app.worker({ handleSignals: false });
    const started = worker.start();
    expect(worker.state).toBe('starting');
    await started;
    expect(calls()).toBe(4);
    expect(worker.state).toBe('running');
    expect(await (await add.delay(2, 3)).get({ timeout: 5000 })).toBe(5);
    await app.close();
    await backend.close();
  });

  it('stop() while waiting for the broker ends start() with ShutdownError', async () => {
    const { backend } = flakyBackend(Infinity);
    const app = createApp({ broker: backend, logger: false });
    const worker = app.worker({ handleSignals: false });
    const started = worker.start();
    await new Promise((resolve) => setTimeout(resolve, 250));
    await worker.stop();
    await expect(started).rejects.toBeInstanceOf(ShutdownError);
    expect(worker.state).toBe('stopped');
    await app.close();
    await backend.close();
  });

  it('an error other than an unreachable broker rejects at once and leaves the worker startable', async () => {
    const backend = new MemoryBackend({ resultTtlMs: 60_000, deadLetterLimit: 10 });
    let fail = true;
    const rescue = backend.rescueExpired.bind(backend);
    backend.rescueExpired = async () => {
      if (fail) throw new ConfigError('misconfigured');
      return rescue();
    };
    const app = createApp({ broker: backend, logger: false });
    const worker = app.worker({ handleSignals: false });
    await expect(worker.start()).rejects.toBeInstanceOf(ConfigError);
    expect(worker.state).toBe('idle');
    fail = false;
    await worker.start();
    expect(worker.state).toBe('running');
    await app.close();
    await backend.close();
  });
});
