import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type Errand, type Task } from '../../src/index.js';
import {
  signStripeSignature,
  standardWebhookHeaders,
  webhookFastify,
  webhookReceiver,
  type WebhookReceiverOptions,
} from '../../src/webhooks/index.js';

export interface ReceiverTarget {
  name: string;
  makeUrl(): string | Promise<string>;
  cleanup?(url: string): Promise<void>;
}

interface Event {
  id?: string;
  type: string;
  data: { email: string };
}

type Args = [email: string, type: string];

interface Env {
  app: Errand;
  task: Task<Args, string>;
  base: string;
  /** POSTs `body` to `path` with these headers (content-type application/json unless given). */
  post(path: string, body: string, headers?: Record<string, string>): Promise<Response>;
  waiting(): Promise<number>;
}

export const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;
const nowS = (): number => Math.floor(Date.now() / 1000);

export function standardHeaders(
  secret: string,
  body: string,
  id = `msg_${randomUUID()}`,
  timestamp = nowS(),
): Record<string, string> {
  return standardWebhookHeaders({ id, timestamp, body, secret });
}

// Indented: a body that Fastify parsed and re-serialised would no longer match its signature.
const event = (email: string, id?: string): string =>
  JSON.stringify({ ...(id ? { id } : {}), type: 'user.created', data: { email } }, null, 1);

/**
 * The receiver behind Fastify on 127.0.0.1, on one broker: replays,
 * concurrency, refusals and back-pressure, with nothing enqueued on a refusal.
 */
export function describeReceiver(target: ReceiverTarget): void {
  describe(`webhook receiver: ${target.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function setup(extra: Partial<WebhookReceiverOptions<Args, Event>> & { secrets: string | string[] }): Promise<Env> {
      const url = await target.makeUrl();
      const app = createApp({ broker: url, logger: false });
      const task = app.task('hooks.user_created', (_ctx, email: string, type: string) => `${type}:${email}`);
      const common = { app, task, toArgs: (e: Event): Args => [e.data.email, e.type], ...extra };
      // The app's own bodyLimit is small, as app/web.ts's is: the webhook route brings its own.
      const fastify: FastifyInstance = Fastify({ bodyLimit: 16 * 1024 });
      await fastify.register(webhookFastify, {
        path: '/hooks/standard',
        receiver: webhookReceiver({ scheme: 'standard', ...common }),
      });
      await fastify.register(webhookFastify, {
        path: '/hooks/stripe',
        receiver: webhookReceiver({ scheme: 'stripe', ...common }),
      });
      await fastify.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
      cleanups.push(async () => {
        await fastify.close();
        await app.close();
        await target.cleanup?.(url);
      });
      return {
        app,
        task,
        base,
        post: (path, body, headers = {}) =>
          fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }),
        waiting: () => app.backend.countWaiting('default'),
      };
    }

    async function taskId(response: Response): Promise<string> {
      expect(response.status).toBe(202);
      const body = (await response.json()) as { task_id: string };
      expect(Object.keys(body)).toEqual(['task_id']);
      return body.task_id;
    }

    /** A refusal: the status, a JSON { error, message }, nothing enqueued. */
    async function expectRefusal(env: Env, response: Response, status: number, error: string): Promise<void> {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe(error);
      expect(typeof body.message).toBe('string');
      expect(await env.waiting()).toBe(0);
    }

    it('answers 202 {task_id} and stores the task with the arguments toArgs made', async () => {
      const secret = newSecret();
      const env = await setup({ secrets: secret });
      const body = event('ada@example.com');
      const id = await taskId(await env.post('/hooks/standard', body, standardHeaders(secret, body)));
      expect(await env.app.result(id).info()).toMatchObject({ name: 'hooks.user_created', state: 'PENDING' });
      expect(await env.waiting()).toBe(1);
      const worker = env.app.worker({ handleSignals: false, claimWaitMs: 100 });
      await worker.start();
      expect(await env.app.result(id).get({ timeout: 5000 })).toBe('user.created:ada@example.com');
      await worker.stop();
    });

    it('a replay (same event id, even re-signed later) returns the first task id and enqueues nothing', async () => {
      const secret = newSecret();
      const env = await setup({ secrets: secret });
      const body = event('ada@example.com');
      const first = await taskId(await env.post('/hooks/standard', body, standardHeaders(secret, body, 'msg_replay')));
      const again = await taskId(
        await env.post('/hooks/standard', body, standardHeaders(secret, body, 'msg_replay', nowS() - 60)),
      );
      expect(again).toBe(first);
      expect(await env.waiting()).toBe(1);
    });

    it('reordered deliveries: each event is one task, whatever order its retries come in', async () => {
      const secret = newSecret();
      const env = await setup({ secrets: secret });
      const send = async (msg: string, email: string) => {
        const body = event(email);
        return taskId(await env.post('/hooks/standard', body, standardHeaders(secret, body, msg)));
      };
      const b1 = await send('msg_b', 'b@example.com');
      const a1 = await send('msg_a', 'a@example.com');
      const b2 = await send('msg_b', 'b@example.com');
      const a2 = await send('msg_a', 'a@example.com');
      expect([a2, b2]).toEqual([a1, b1]);
      expect(a1).not.toBe(b1);
      expect(await env.waiting()).toBe(2);
    });

    it('100 identical deliveries at once make one task', async () => {
      const secret = newSecret();
      const env = await setup({ secrets: secret });
      const body = event('ada@example.com');
      const headers = standardHeaders(secret, body, 'msg_burst');
      const ids = await Promise.all(
        Array.from({ length: 100 }, async () => taskId(await env.post('/hooks/standard', body, headers))),
      );
      expect(new Set(ids).size).toBe(1);
      expect(await env.waiting()).toBe(1);
    });

    it('stripe scheme: the event id comes from the body, and dedupes the same way', async () => {
      const secret = 'whsec_' + randomBytes(16).toString('hex');
      const env = await setup({ secrets: secret });
      const body = event('ada@example.com', 'evt_123');
      const sign = () => ({ 'stripe-signature': signStripeSignature({ timestamp: nowS(), body, secret }) });
      const first = await taskId(await env.post('/hooks/stripe', body, sign()));
      expect(await taskId(await env.post('/hooks/stripe', body, sign()))).toBe(first);
      expect(await env.waiting()).toBe(1);
      const noId = event('ada@example.com');
      const response = await env.post('/hooks/stripe', noId, {
        'stripe-signature': signStripeSignature({ timestamp: nowS(), body: noId, secret }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_event');
    });

    it('401 for a wrong secret, a tampered body, a stale or future timestamp, missing headers', async () => {
      const secret = newSecret();
      const env = await setup({ secrets: secret });
      const body = event('ada@example.com');
      await expectRefusal(
        env,
        await env.post('/hooks/standard', body, standardHeaders(newSecret(), body)),
        401,
        'signature_mismatch',
      );
      const tampered = body.replace('ada', 'eve');
      await expectRefusal(
        env,
        await env.post('/hooks/standard', tampered, standardHeaders(secret, body)),
        401,
        'signature_mismatch',
      );
      for (const skew of [-301, 301]) {
        const headers = standardHeaders(secret, body, undefined, nowS() + skew);
        await expectRefusal(env, await env.post('/hooks/standard', body, headers), 401, 'timestamp_out_of_tolerance');
      }
      await expectRefusal(env, await env.post('/hooks/standard', body), 401, 'missing_signature');
      await expectRefusal(
        env,
        await env.post('/hooks/stripe', body, { 'stripe-signature': 't=1,v1=00' }),
        401,
        'timestamp_out_of_tolerance',
      );
    });

    it('rotation: deliveries signed with the old or the new secret are both accepted', async () => {
      const [old, next] = [newSecret(), newSecret()];
      const env = await setup({ secrets: [old, next] });
      for (const [i, secret] of [old, next].entries()) {
        const body = event(`u${i}@example.com`);
        await taskId(await env.post('/hooks/standard', body, standardHeaders(secret, body)));
      }
      expect(await env.waiting()).toBe(2);
    });

    it('415 unless application/json, 413 over maxBodyBytes, 400 for a signed body that is not JSON', async () => {
      const secret = newSecret();
      const env = await setup({ secrets: secret, maxBodyBytes: 1024 });
      const body = event('ada@example.com');
      const headers = standardHeaders(secret, body);
      await expectRefusal(
        env,
        await env.post('/hooks/standard', body, { ...headers, 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
      );
      const noType = await fetch(env.base + '/hooks/standard', {
        method: 'POST',
        headers,
        body: new Uint8Array(Buffer.from(body)),
      });
      await expectRefusal(env, noType, 415, 'unsupported_media_type');
      const big = JSON.stringify({ type: 'x', data: { email: 'a'.repeat(2000) } });
      await expectRefusal(env, await env.post('/hooks/standard', big, standardHeaders(secret, big)), 413, 'payload_too_large');
      const notJson = '{"type": ';
      await expectRefusal(env, await env.post('/hooks/standard', notJson, standardHeaders(secret, notJson)), 400, 'invalid_json');
      // Larger than the server's 16 KiB bodyLimit is fine when the route allows it.
    });

    it('accepts a body over the server bodyLimit when the receiver allows it (the route has its own)', async () => {
      const secret = newSecret();
      const env = await setup({ secrets: secret });
      const body = JSON.stringify({ type: 'big', data: { email: 'a@example.com', pad: 'x'.repeat(64 * 1024) } });
      await taskId(await env.post('/hooks/standard', body, standardHeaders(secret, body)));
    });

    it('429 with Retry-After once maxQueueDepth tasks wait; accepted again when the queue drains', async () => {
      const secret = newSecret();
      const env = await setup({ secrets: secret, maxQueueDepth: 2, retryAfterSeconds: 7 });
      const send = (email: string) => {
        const body = event(email);
        return env.post('/hooks/standard', body, standardHeaders(secret, body));
      };
      await taskId(await send('a@example.com'));
      await taskId(await send('b@example.com'));
      const full = await send('c@example.com');
      expect(full.status).toBe(429);
      expect(full.headers.get('retry-after')).toBe('7');
      expect(((await full.json()) as { error: string }).error).toBe('queue_full');
      expect(await env.waiting()).toBe(2);
      const worker = env.app.worker({ handleSignals: false, claimWaitMs: 100 });
      await worker.start();
      await expect.poll(() => env.waiting(), { timeout: 5000 }).toBe(0);
      await worker.stop();
      await taskId(await send('c@example.com'));
    });
  });
}
