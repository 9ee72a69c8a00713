import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config.js';
import { buildWebServer } from '../../app/web.js';
import { startChild, stopChild, type Child } from '../support/child.js';
import { waitFor } from '../support/wait.js';
import { tempSqliteBroker } from '../fixtures/app/demo-env.js';

// The real pipeline: web in this process, the worker in a child, one SQLite file between them.
const broker = tempSqliteBroker();
let server: FastifyInstance;
let worker: Child;
let origin: string;

beforeAll(async () => {
  const config = loadConfig({ ERRAND_BROKER: broker.url, DEMO_API_DELAY_MS: '50', DEMO_API_FAILURE_RATE: '0', PORT: '0' });
  server = await buildWebServer({ config });
  origin = await server.listen({ host: '127.0.0.1', port: 0 });
  worker = await startChild(
    'app/worker.ts',
    { ERRAND_BROKER: broker.url, DEMO_API_URL: `${origin}/fake-api/subscribe` },
    'worker ready',
  );
});

afterAll(async () => {
  if (worker) await stopChild(worker);
  await server?.close();
  broker.cleanup();
});

async function submit(email: string, username: string): Promise<string> {
  const res = await server.inject({
    method: 'POST',
    url: '/users/form/',
    headers: { host: new URL(origin).host, origin, 'content-type': 'application/json' },
    payload: { email, username },
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ task_id: string }>().task_id;
}

async function finalStatus(prefix: string, id: string): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const res = await server.inject({ method: 'GET', url: `${prefix}/task_status/?task_id=${id}` });
      expect(res.statusCode).toBe(200);
      const body = res.json<Record<string, unknown>>();
      return body.state === 'SUCCESS' || body.state === 'FAILURE' ? body : undefined;
    },
    15_000,
    `task ${id} to finish`,
  );
}

describe('the subscribe task, run by a worker process', () => {
  it('succeeds and task_status says SUCCESS on both prefixes', async () => {
    const id = await submit('ada@example.com', 'ada');
    const status = await finalStatus('/users', id);
    expect(status).toMatchObject({ state: 'SUCCESS', result: { subscribed: 'ada@example.com' } });
    expect(await finalStatus('', id)).toMatchObject({ state: 'SUCCESS' });
  });

  it('fails with the provider’s readable message, username included', async () => {
    const id = await submit('please-fail@example.com', '<b>bob</b>');
    const status = await finalStatus('', id);
    expect(status).toMatchObject({
      state: 'FAILURE',
      error: 'random processing error while subscribing <b>bob</b>',
      errorType: 'ProviderError',
    });
  });

  it('reports progress while the provider call is under way', async () => {
    const id = await submit('grace@example.com', 'grace');
    const app = (await import('../../src/create-app.js')).createApp({ broker: broker.url, logger: false });
    try {
      const seen: string[] = [];
      for await (const info of app.watch(id)) if (typeof info.progress?.meta === 'string') seen.push(info.progress.meta);
      expect(seen).toContain('subscribed');
    } finally {
      await app.close();
    }
  });

  it('stops gracefully on SIGTERM', async () => {
    await stopChild(worker, 'SIGTERM');
    expect(worker.process.exitCode).toBe(0);
    expect(worker.output()).toContain('worker: SIGTERM, shutting down');
  });
});
