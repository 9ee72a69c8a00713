import { afterEach, describe, expect, it } from 'vitest';
import { createApp, ConfigError, type Errand } from '../../src/index.js';
import { webRequest } from '../../src/web/core/web-request.js';
import { webhookReceiver } from '../../src/webhooks/index.js';
import { newSecret, standardHeaders } from './receiver-suite.js';

// The receiver without a server: a WebRequest in, a reply out.
const apps: Errand[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

function setup(options: { onConflict?: 'warn' | 'error'; toArgs?: (event: { n: number }) => [number] } = {}) {
  const app = createApp({ broker: 'memory://', logger: false, idempotency: { onConflict: options.onConflict ?? 'warn' } });
  apps.push(app);
  const task = app.task('hooks.unit', (_ctx, n: number) => n);
  const secret = newSecret();
  const toArgs = options.toArgs ?? ((e: { n: number }): [number] => [e.n]);
  const receiver = webhookReceiver<[number], { n: number }>({ app, task, scheme: 'standard', secrets: secret, toArgs });
  const deliver = (body: string, headers = standardHeaders(secret, body), method = 'POST') =>
    receiver(
      webRequest({
        method,
        url: '/hooks',
        headers: { 'content-type': 'application/json', ...headers },
        native: null,
        body: async () => new TextEncoder().encode(body),
      }),
    );
  return { app, secret, deliver };
}

const json = (reply: { body?: string }) => JSON.parse(reply.body!) as Record<string, unknown>;

describe('webhookReceiver', () => {
  it('405 for other methods, with Allow', async () => {
    const reply = await setup().deliver('{"n":1}', undefined, 'PUT');
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('POST');
    expect(json(reply).error).toBe('method_not_allowed');
  });

  it('400 invalid_event with the message when toArgs throws', async () => {
    const { deliver } = setup({
      toArgs: () => {
        throw new Error('n must be a number');
      },
    });
    const reply = await deliver('{"n":"x"}');
    expect(reply.status).toBe(400);
    expect(json(reply)).toEqual({ error: 'invalid_event', message: 'n must be a number' });
  });

  it("one event id re-sent with another body keeps the first task, even with onConflict: 'error'", async () => {
    const { app, secret, deliver } = setup({ onConflict: 'error' });
    const first = json(await deliver('{"n":1}', standardHeaders(secret, '{"n":1}', 'msg_same')));
    const second = await deliver('{"n":2}', standardHeaders(secret, '{"n":2}', 'msg_same'));
    expect(second.status).toBe(202);
    expect(json(second).task_id).toBe(first.task_id);
    expect(await app.backend.countWaiting('default')).toBe(1);
  });

  it('503 unavailable when the broker cannot store the task', async () => {
    const { app, deliver } = setup();
    await app.backend.close();
    const reply = await deliver('{"n":1}');
    expect(reply.status).toBe(503);
    expect(json(reply).error).toBe('unavailable');
  });

  it('refuses bad configuration at setup with ConfigError', () => {
    const app = createApp({ broker: 'memory://', logger: false });
    apps.push(app);
    const task = app.task('hooks.config', (_ctx, n: number) => n);
    const base = { app, task, toArgs: () => [1] as [number] };
    expect(() => webhookReceiver({ ...base, scheme: 'standard', secrets: 'not-base64!' })).toThrow(ConfigError);
    expect(() => webhookReceiver({ ...base, scheme: 'standard', secrets: [] })).toThrow(ConfigError);
    expect(() => webhookReceiver({ ...base, scheme: 'other' as 'stripe', secrets: 'x' })).toThrow(ConfigError);
    expect(() => webhookReceiver({ ...base, scheme: 'stripe', secrets: 'x', maxQueueDepth: 0 })).toThrow(ConfigError);
  });
});
