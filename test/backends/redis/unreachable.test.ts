import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { BrokerError, createApp } from '../../../src/index.js';
import { describeRedis } from '../../support/redis.js';
import { waitFor } from '../../support/wait.js';

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeRedis('redis broker unreachable', () => {
  let server: ChildProcess | undefined;
  afterEach(() => {
    server?.kill('SIGKILL');
    server = undefined;
  });

  it('names the host, the port and the cause', async () => {
    const port = await freePort();
    const app = createApp({ broker: `redis://127.0.0.1:${port}/0`, logger: false });
    const task = app.task('t', () => 1);
    const error = await task.delay().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as Error).message).toMatch(new RegExp(`cannot reach 127\\.0\\.0\\.1:${port} \\(connection refused`));
    await app.close();
  });

  it('a worker started while Redis is down waits, then runs tasks once it is up', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const app = createApp({ broker: url, logger: false });
    app.task('t.add', (_ctx, a: number, b: number) => a + b);
    const worker = app.worker({ handleSignals: false, claimWaitMs: 200 });
    const started = worker.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(worker.state).toBe('starting');
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await started;
    expect(worker.state).toBe('running');
    const producer = createApp({ broker: url, logger: false });
    const add = producer.task('t.add', (_ctx, a: number, b: number) => a + b);
    await waitFor(
      async () =>
        await add
          .delay(1, 1)
          .then(() => true)
          .catch(() => false),
      10_000,
      'enqueue',
    );
    expect(await (await add.delay(2, 3)).get({ timeout: 10_000 })).toBe(5);
    await producer.close();
    await app.close();
  });
});
