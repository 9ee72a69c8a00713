import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_WEBHOOK_SECRET } from '../../app/config.js';
import { waitFor } from '../support/wait.js';
import { startDemoServer, type DemoServer } from './demo-server.js';

// Seed 002's endpoint callback in the reference app: /callback_test/ enqueues with a callback to the app's own receiver.
let running: DemoServer;
let base: string;

beforeAll(async () => {
  running = await startDemoServer({
    env: { DEMO_API_DELAY_MS: '0', DEMO_API_FAILURE_RATE: '0' },
    demo: { callbackSecret: DEV_WEBHOOK_SECRET },
  });
  ({ base } = running);
}, 60_000);

afterAll(async () => running?.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('/callback_test/ and /callback_receiver/', () => {
  it('answers 202 at once; the outcome reaches the receiver signed, once, and the delivery record says delivered', async () => {
    const res = await post('/callback_test/', {
      email: 'a@example.com',
      username: 'a',
      callback_url: `${base}/callback_receiver/`,
    });
    expect(res.status).toBe(202);
    const { task_id: id } = (await res.json()) as { task_id: string };
    await waitFor(async () => {
      const got = (await (await fetch(`${base}/callback_receiver/`)).json()) as { received: Array<{ task_id: string }> };
      return got.received.some((r) => r.task_id === id);
    }, 15_000);
    const { received } = (await (await fetch(`${base}/callback_receiver/`)).json()) as {
      received: Array<{ task_id: string; state: string; webhook_id: string }>;
    };
    const mine = received.filter((r) => r.task_id === id);
    expect(mine).toHaveLength(1);
    // the provider call may fail here (config's port 0): either way the outcome is reported
    expect(['SUCCESS', 'FAILURE']).toContain(mine[0]!.state);
    const record = await (await fetch(`${base}/callback_test/${id}/`)).json();
    expect(record).toMatchObject({ taskId: id, state: 'delivered', lastStatus: 200, deliveryId: mine[0]!.webhook_id });
  });

  it('the receiver refuses an unsigned or forged POST with 401', async () => {
    expect((await post('/callback_receiver/', { task_id: 'x', state: 'SUCCESS' })).status).toBe(401);
    const forged = await post(
      '/callback_receiver/',
      { task_id: 'x', state: 'SUCCESS' },
      { 'webhook-id': 'm1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' },
    );
    expect(forged.status).toBe(401);
  });

  it('refuses a callback URL off the allow-list (SSRF) and bad fields with a 400 naming the field, enqueueing nothing', async () => {
    for (const callback_url of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.7/hook', 'ftp://example.com/x']) {
      const res = await post('/callback_test/', { email: 'a@example.com', username: 'a', callback_url });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'bad_request', field: 'callback_url' });
    }
    const res = await post('/callback_test/', { username: 'a' });
    expect(await res.json()).toMatchObject({ field: 'email' });
    expect((await fetch(`${base}/callback_test/not-an-id/`)).status).toBe(400);
  });
});
