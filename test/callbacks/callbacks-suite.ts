import { afterEach, describe, expect, it } from 'vitest';
import {
  CallbackRefusedError,
  ConfigError,
  createApp,
  verifyStandardWebhookForTest,
  type CallbackOptions,
  type Errand,
} from './imports.js';
import { waitFor } from '../support/wait.js';
import { CallbackReceiver, type Answer } from './receiver.js';

export const SECRET = 'whsec_' + Buffer.from('errand-callback-test-key-0123456789').toString('base64');
const OTHER_SECRET = 'whsec_' + Buffer.from('another-callback-key-abcdefghijkl').toString('base64');

/** Endpoint callbacks on one broker: signed POSTs at the terminal state, retries, 410, timeouts, SSRF. */
export function describeCallbacks(name: string, makeUrl: () => string, cleanup?: (url: string) => Promise<void>): void {
  describe(`endpoint callbacks: ${name}`, () => {
    const undo: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const step of undo.splice(0).reverse()) await step();
    });

    async function setup(answer?: Answer, callbacks: CallbackOptions = {}) {
      const receiver = await CallbackReceiver.start(answer);
      const url = makeUrl();
      const app = createApp({
        broker: url,
        logger: false,
        callbacks: { secret: SECRET, allow: ['127.0.0.1'], backoff: { base: 20, cap: 100 }, ...callbacks },
      });
      const tasks = {
        add: app.task('cb.add', (_ctx, a: number, b: number) => a + b),
        boom: app.task('cb.boom', () => {
          throw new RangeError('out of range');
        }),
      };
      const worker = app.worker({ handleSignals: false, claimWaitMs: 100 });
      await worker.start();
      undo.push(async () => {
        await app.close();
        await receiver.stop();
        await cleanup?.(url);
      });
      return { app, tasks, receiver };
    }

    const finalRecord = async (app: Errand, taskId: string) => {
      await waitFor(async () => {
        const record = await app.callbackDelivery(taskId);
        return record !== null && ['delivered', 'gone', 'failed'].includes(record.state);
      }, 10_000);
      return (await app.callbackDelivery(taskId))!;
    };

    it('POSTs { task_id, state, result } signed with Standard Webhooks once the task succeeds', async () => {
      const { app, tasks, receiver } = await setup();
      const r = await tasks.add.applyAsync([2, 3], { callback: { url: receiver.url } });
      expect(await r.get({ timeout: 5000 })).toBe(5);
      const record = await finalRecord(app, r.id);
      expect(record).toMatchObject({ taskId: r.id, state: 'delivered', attempts: 1, lastStatus: 200 });
      expect(record.lastError).toBeUndefined();
      expect(receiver.received).toHaveLength(1);
      const [got] = receiver.received;
      expect(JSON.parse(got!.body)).toEqual({ task_id: r.id, state: 'SUCCESS', result: 5 });
      expect(got!.headers['content-type']).toBe('application/json');
      expect(got!.headers['webhook-id']).toBe(record.deliveryId);
      const headers = got!.headers as Record<string, string>;
      expect(verifyStandardWebhookForTest({ headers, body: Buffer.from(got!.body), secrets: SECRET })).toMatchObject({
        id: record.deliveryId,
      });
      expect(() => verifyStandardWebhookForTest({ headers, body: Buffer.from(got!.body), secrets: OTHER_SECRET })).toThrow();
    });

    it('reports a failure with its error, and signs with the secret the call gave', async () => {
      const { app, tasks, receiver } = await setup();
      const r = await tasks.boom.applyAsync([], { callback: { url: receiver.url, secret: OTHER_SECRET } });
      const record = await finalRecord(app, r.id);
      expect(record.state).toBe('delivered');
      const [got] = receiver.received;
      expect(JSON.parse(got!.body)).toEqual({
        task_id: r.id,
        state: 'FAILURE',
        error: { type: 'RangeError', message: 'out of range' },
      });
      const headers = got!.headers as Record<string, string>;
      expect(() => verifyStandardWebhookForTest({ headers, body: Buffer.from(got!.body), secrets: OTHER_SECRET })).not.toThrow();
      expect(() => verifyStandardWebhookForTest({ headers, body: Buffer.from(got!.body), secrets: SECRET })).toThrow();
    });

    it('reports a revoked task, which never ran', async () => {
      const { app, tasks, receiver } = await setup();
      const r = await tasks.add.applyAsync([1, 1], { countdown: 60_000, callback: { url: receiver.url } });
      await r.revoke();
      await finalRecord(app, r.id);
      expect(JSON.parse(receiver.received[0]!.body)).toEqual({ task_id: r.id, state: 'REVOKED' });
    });

    it('retries with backoff until a 2xx: three failures, then delivered on the fourth, with one webhook-id', async () => {
      const { app, tasks, receiver } = await setup((n) => (n <= 3 ? 503 : 204));
      const r = await tasks.add.applyAsync([1, 2], { callback: { url: receiver.url } });
      const record = await finalRecord(app, r.id);
      expect(record).toMatchObject({ state: 'delivered', attempts: 4, lastStatus: 204 });
      expect(receiver.received).toHaveLength(4);
      expect(new Set(receiver.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
      expect(new Set(receiver.received.map((x) => x.body)).size).toBe(1);
    });

    it('is readable while retrying: attempts, last status and error, next try', async () => {
      const { app, tasks, receiver } = await setup(() => 500, { backoff: { base: 60_000, cap: 60_000, jitter: 'none' } });
      const r = await tasks.add.applyAsync([1, 2], { callback: { url: receiver.url } });
      await waitFor(async () => (await app.callbackDelivery(r.id))?.state === 'retrying', 10_000);
      const record = (await app.callbackDelivery(r.id))!;
      expect(record).toMatchObject({ state: 'retrying', attempts: 1, lastStatus: 500 });
      expect(record.lastError).toMatch(/answered 500/);
      expect(record.lastError).not.toMatch(/token/);
      expect(record.nextAttemptAt).toBeGreaterThan(Date.now() + 50_000);
    });

    it('stops at a 410 Gone: one attempt, state gone', async () => {
      const { app, tasks, receiver } = await setup(() => 410);
      const r = await tasks.add.applyAsync([1, 2], { callback: { url: receiver.url } });
      const record = await finalRecord(app, r.id);
      expect(record).toMatchObject({ state: 'gone', attempts: 1, lastStatus: 410 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receiver.received).toHaveLength(1);
    });

    it('gives up after maxAttempts on an endpoint that never answers, each attempt cut at timeoutMs', async () => {
      const { app, tasks, receiver } = await setup(() => 'hang', { timeoutMs: 150, maxAttempts: 3 });
      const r = await tasks.add.applyAsync([1, 2], { callback: { url: receiver.url } });
      const record = await finalRecord(app, r.id);
      expect(record).toMatchObject({ state: 'failed', attempts: 3 });
      expect(record.lastStatus).toBeUndefined();
      expect(record.lastError).toMatch(/time limit/);
      expect(receiver.received).toHaveLength(3);
    });

    it('refuses loopback and private addresses off the allow-list: at enqueue for an IP, at delivery for a name', async () => {
      const { app, tasks, receiver } = await setup(undefined, { allow: [] });
      const port = new URL(receiver.url).port;
      for (const host of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '[::1]', '[::ffff:127.0.0.1]', '0.0.0.0']) {
        await expect(tasks.add.applyAsync([1, 2], { callback: { url: `http://${host}:${port}/` } })).rejects.toThrow(
          CallbackRefusedError,
        );
      }
      await expect(tasks.add.applyAsync([1, 2], { callback: { url: 'file:///etc/passwd' } })).rejects.toThrow(/http or https/);
      await expect(tasks.add.applyAsync([1, 2], { callback: { url: `http://u:p@example.com/` } })).rejects.toThrow(/credentials/);
      expect(await app.backend.countWaiting('default')).toBe(0);
      // a host name is checked where it resolves, when the delivery connects: refused, not retried
      const r = await tasks.add.applyAsync([1, 2], { callback: { url: `http://localhost:${port}/` } });
      const record = await finalRecord(app, r.id);
      expect(record).toMatchObject({ state: 'failed', attempts: 1 });
      expect(record.lastError).toMatch(/not allowed|refused/);
      expect(receiver.received).toHaveLength(0);
    });

    it('a bad callback option is a clear error and stores nothing', async () => {
      const { app, tasks } = await setup();
      await expect(tasks.add.applyAsync([1, 2], { callback: { url: 42 as unknown as string } })).rejects.toThrow(ConfigError);
      await expect(tasks.add.applyAsync([1, 2], { callback: { url: 'http://example.com/', secret: 'short' } })).rejects.toThrow(
        ConfigError,
      );
      expect(await app.backend.countWaiting('default')).toBe(0);
      expect(await app.callbackDelivery((await tasks.add.delay(1, 1)).id)).toBeNull();
    });

    it('survives the app that enqueued it: a delivery nobody consumed yet is sent by a later worker', async () => {
      const receiver = await CallbackReceiver.start();
      const url = makeUrl();
      undo.push(async () => {
        await receiver.stop();
        await cleanup?.(url);
      });
      const options = {
        broker: url,
        logger: false as const,
        callbacks: { secret: SECRET, allow: ['127.0.0.1'], queue: 'callbacks' },
      };
      const first = createApp(options);
      first.task('cb.add', (_ctx, a: number, b: number) => a + b);
      const worker = first.worker({ handleSignals: false, claimWaitMs: 100 }); // not on the callbacks queue
      await worker.start();
      const r = await first.sendTask('cb.add', [4, 5], { callback: { url: receiver.url } });
      expect(await r.get({ timeout: 5000 })).toBe(9);
      expect((await first.callbackDelivery(r.id))?.state).toBe('pending');
      if (!first.backend.capabilities.durable) {
        await first.close();
        return;
      }
      await first.close();
      const later = createApp(options);
      later.task('cb.add', (_ctx, a: number, b: number) => a + b);
      undo.push(() => later.close());
      await later.worker({ handleSignals: false, claimWaitMs: 100, queues: ['callbacks'] }).start();
      const record = await finalRecord(later, r.id);
      expect(record.state).toBe('delivered');
      expect(JSON.parse(receiver.received[0]!.body)).toEqual({ task_id: r.id, state: 'SUCCESS', result: 9 });
    });
  });
}
