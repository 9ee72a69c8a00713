import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/index.js';
import { errandExpress } from '../../src/web/express/index.js';
import { createErrandFetch } from '../../src/web/hono/index.js';
import { ADAPTERS, startAdapter } from '../web/web-support.js';
import { postAction, session } from './support.js';

const app = createApp({ broker: 'memory://', logger: false });
afterAll(() => app.close());

describe.each(ADAPTERS)('the dashboard on %s', (adapter) => {
  it('sees the loopback client, serves the page, the live stream and an action', async () => {
    const web = await startAdapter(adapter, app, ['/ops'], { dashboard: { refreshMs: 100 } });
    try {
      const base = `${web.base}/ops/dashboard`;
      // 200 only if the adapter passed the socket's loopback address on
      const auth = await session(base);
      const overview = await fetch(`${base}/api/overview`);
      expect(overview.status).toBe(200);
      const done = await postAction(base, 'pause', { queue: `q-${adapter}` }, auth);
      expect([done.status, await done.json()]).toEqual([200, { action: 'pause', count: 1 }]);
      const refused = await postAction(base, 'resume', { queue: `q-${adapter}` }, { ...auth, token: '0'.repeat(64) });
      expect(refused.status).toBe(403);
      const controller = new AbortController();
      const live = await fetch(`${base}/api/live`, { signal: controller.signal });
      const reader = live.body!.getReader();
      let text = '';
      while (!text.includes(`q-${adapter}`)) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toContain('event: overview');
      controller.abort();
    } finally {
      await web.close();
    }
  });
});

describe('Express with express.json() in front', () => {
  it('takes the body express parsed', async () => {
    const web = express();
    web.use(express.json());
    const router = errandExpress({ app, prefix: '/ops', dashboard: {} });
    web.use(router);
    const server = web.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops/dashboard`;
    const done = await postAction(base, 'pause', { queue: 'q-json' }, await session(base));
    expect(await done.json()).toEqual({ action: 'pause', count: 1 });
    await router.close();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('a bare Fetch handler', () => {
  it('knows no client address, so the default dashboard refuses with 403 saying credentials are needed', async () => {
    const handler = createErrandFetch({ app, dashboard: {} });
    const response = await handler.fetch(new Request('http://127.0.0.1/dashboard/api/overview'));
    expect(response.status).toBe(403);
    expect(((await response.json()) as { message: string }).message).toMatch(/credentials/);
    const withToken = createErrandFetch({ app, dashboard: { token: 'a-token-of-at-least-16-chars' } });
    const ok = await withToken.fetch(
      new Request('http://x/dashboard/api/overview', { headers: { authorization: 'Bearer a-token-of-at-least-16-chars' } }),
    );
    expect(ok.status).toBe(200);
    await handler.close();
    await withToken.close();
  });
});
