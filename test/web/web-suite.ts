import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Errand, type Worker } from '../../src/index.js';
import { peekHub } from '../../src/web/hub-registry.js';
import { startChild, stopChild, type Child } from '../support/child.js';
import { waitFor } from '../support/wait.js';
import { defineWebTasks } from '../fixtures/web/tasks.js';
import { collectWs, expectIncreasing, readSse, startWeb, states, UpgradeRefused, type WebServer } from './web-support.js';

export interface WebTarget {
  name: string;
  /** A broker URL of a fresh namespace. */
  makeUrl(): string;
  /** Run the worker in a child process (cross-process brokers), else in the test process. */
  separateWorker: boolean;
  cleanup?(url: string): Promise<void>;
}

/** The status endpoints' contract, with the worker in another process where the broker allows it. */
export function describeWebSuite(target: WebTarget): void {
  describe(`web: ${target.name}${target.separateWorker ? ' (worker in a child process)' : ''}`, () => {
    let url: string;
    let app: Errand;
    let tasks: ReturnType<typeof defineWebTasks>;
    let web: WebServer;
    let child: Child | undefined;
    let worker: Worker | undefined;

    beforeAll(async () => {
      url = target.makeUrl();
      app = createApp({ broker: url, logger: false });
      tasks = defineWebTasks(app);
      if (target.separateWorker) {
        child = await startChild('test/fixtures/web/worker.ts', { BROKER_URL: url });
      } else {
        worker = app.worker({ handleSignals: false, claimWaitMs: 100, concurrency: 20 });
        await worker.start();
      }
      web = await startWeb(app, ['', '/users']);
    });

    afterAll(async () => {
      await web?.fastify.close();
      if (child) await stopChild(child);
      await worker?.stop();
      await app?.close();
      await target.cleanup?.(url);
    });

    /** A task that stays PENDING (due in a minute). */
    const pendingTask = () => tasks.add.applyAsync([1, 1], { countdown: 60_000 });

    describe('poll GET /task_status/', () => {
      it('answers 200 with state and version, ETag = version, 304 when unchanged, then the result', async () => {
        const waiting = await pendingTask();
        const first = await web.fastify.inject({ url: `/task_status/?task_id=${waiting.id}` });
        expect(first.statusCode).toBe(200);
        expect(first.json()).toEqual({ state: 'PENDING', version: 1 });
        expect(first.headers.etag).toBe('"1"');
        expect(first.headers['cache-control']).toBe('no-cache');
        const again = await web.fastify.inject({
          url: `/task_status/?task_id=${waiting.id}`,
          headers: { 'if-none-match': '"1"' },
        });
        expect(again.statusCode).toBe(304);
        expect(again.body).toBe('');
        await waiting.revoke();

        const r = await tasks.add.delay(2, 3);
        expect(await r.get({ timeout: 10_000 })).toBe(5);
        const done = await web.fastify.inject({
          url: `/users/task_status/?task_id=${r.id}`,
          headers: { 'if-none-match': '"1"' },
        });
        expect(done.statusCode).toBe(200);
        const body = done.json();
        expect(body).toMatchObject({ state: 'SUCCESS', result: 5 });
        expect(done.headers.etag).toBe(`"${body.version}"`);
      });

      it('answers a FAILURE with the error message and class', async () => {
        const r = await tasks.fail.delay('no such file');
        await expect(r.get({ timeout: 10_000 })).rejects.toThrow();
        const res = await web.fastify.inject({ url: `/task_status/?task_id=${r.id}` });
        expect(res.json()).toMatchObject({ state: 'FAILURE', error: 'no such file', errorType: 'TypeError' });
      });

      it('answers 404 for an unknown id, never PENDING', async () => {
        const res = await web.fastify.inject({ url: `/task_status/?task_id=${randomUUID()}` });
        expect(res.statusCode).toBe(404);
        expect(res.json()).toMatchObject({ error: 'not_found' });
        expect(res.json().message).toMatch(/no task/);
      });

      it('answers 400 naming the field for a missing or malformed task_id', async () => {
        for (const query of ['', '?task_id=', '?task_id=nope', `?task_id=${randomUUID()}&task_id=${randomUUID()}`]) {
          const res = await web.fastify.inject({ url: `/task_status/${query}` });
          expect(res.statusCode, query).toBe(400);
          expect(res.json()).toMatchObject({ error: 'bad_request', field: 'task_id' });
        }
        expect((await web.fastify.inject({ url: '/task_status/' })).json().message).toMatch(/required/);
      });
    });

    describe('SSE GET /tasks/:id/events', () => {
      it('sends the snapshot, then every update in version order, and ends after the terminal event', async () => {
        const r = await tasks.steps.applyAsync([3, 20], { countdown: 500 });
        const { status, contentType, events } = await readSse(`${web.base}/tasks/${r.id}/events`);
        expect(status).toBe(200);
        expect(contentType).toMatch(/^text\/event-stream/);
        const messages = events.map((e) => JSON.parse(e.data));
        expect(messages[0]).toEqual({ state: 'PENDING', version: 1 });
        expect(messages.at(-1)).toMatchObject({ state: 'SUCCESS', result: 'done' });
        expect(states(messages)).toContain('PROGRESS');
        expect(events.map((e) => Number(e.id))).toEqual(messages.map((m) => m.version));
        expect(events.every((e) => e.event === undefined)).toBe(true); // one `message` event type
        expectIncreasing(messages.map((m) => m.version));
      });

      it('a late subscriber gets the final state once, then the stream ends', async () => {
        const r = await tasks.add.delay(20, 22);
        await r.get({ timeout: 10_000 });
        const { events } = await readSse(`${web.base}/users/tasks/${r.id}/events`);
        expect(events.map((e) => JSON.parse(e.data))).toMatchObject([{ state: 'SUCCESS', result: 42 }]);
      });

      it('resumes after Last-Event-ID, and answers 204 once the client has the terminal event', async () => {
        const r = await tasks.add.delay(1, 2);
        await r.get({ timeout: 10_000 });
        const final = (await r.info())!.version;
        const resumed = await readSse(`${web.base}/tasks/${r.id}/events`, { 'last-event-id': '1' });
        expect(resumed.events.map((e) => Number(e.id))).toEqual([final]);
        const over = await readSse(`${web.base}/tasks/${r.id}/events`, { 'last-event-id': String(final) });
        expect(over.status).toBe(204);
        const viaQuery = await readSse(`${web.base}/tasks/${r.id}/events?lastEventId=${final}`);
        expect(viaQuery.status).toBe(204);
      });

      it('answers 404 for an unknown id and 400 for a malformed one', async () => {
        const missing = await web.fastify.inject({ url: `/tasks/${randomUUID()}/events` });
        expect(missing.statusCode).toBe(404);
        expect(missing.json()).toMatchObject({ error: 'not_found' });
        const bad = await web.fastify.inject({ url: '/tasks/xyz/events' });
        expect(bad.statusCode).toBe(400);
        expect(bad.json()).toMatchObject({ error: 'bad_request', field: 'id' });
      });

      it('drops the subscription when the client disconnects', async () => {
        const r = await pendingTask();
        const controller = new AbortController();
        const reading = readSse(`${web.base}/tasks/${r.id}/events`, {}, () => controller.abort(), controller.signal);
        await expect(reading).rejects.toThrow();
        const hub = peekHub(app.backend)!;
        await waitFor(() => hub.subscriberCount(r.id) === 0, 5000, 'the hub to drop the subscriber');
        await r.revoke();
      });
    });

    describe('WebSocket /ws/task_status/:id/', () => {
      it('sends the current state on connect, then updates, and closes with 1000 after the terminal one', async () => {
        const r = await tasks.steps.applyAsync([3, 20], { countdown: 500 });
        const { messages, code } = await collectWs(`${web.wsBase}/ws/task_status/${r.id}/`, web.base);
        expect(messages[0]).toEqual({ state: 'PENDING', version: 1 });
        expect(messages.at(-1)).toMatchObject({ state: 'SUCCESS', result: 'done' });
        expect(states(messages)).toContain('STARTED');
        expectIncreasing(messages.map((m) => m.version));
        expect(code).toBe(1000);
      });

      it('serves both prefixes through one upgrade listener; a late subscriber gets the final state', async () => {
        const r = await tasks.add.delay(4, 4);
        await r.get({ timeout: 10_000 });
        const { messages, code } = await collectWs(`${web.wsBase}/users/ws/task_status/${r.id}/`, web.base);
        expect(messages).toMatchObject([{ state: 'SUCCESS', result: 8 }]);
        expect(code).toBe(1000);
        expect(web.fastify.server.listenerCount('upgrade')).toBe(1);
      });

      it('closes with 4404 for an unknown id and 4400 for a malformed one', async () => {
        const unknown = await collectWs(`${web.wsBase}/ws/task_status/${randomUUID()}/`, web.base);
        expect(unknown).toMatchObject({ messages: [], code: 4404 });
        const bad = await collectWs(`${web.wsBase}/ws/task_status/not-an-id/`, web.base);
        expect(bad).toMatchObject({ messages: [], code: 4400 });
      });

      it('refuses another site with 403 before the upgrade, and unknown paths with 404', async () => {
        const r = await tasks.add.delay(1, 1);
        const evil = collectWs(`${web.wsBase}/ws/task_status/${r.id}/`, 'https://evil.example');
        await expect(evil).rejects.toMatchObject({ status: 403 });
        await expect(evil).rejects.toBeInstanceOf(UpgradeRefused);
        const nowhere = collectWs(`${web.wsBase}/ws/elsewhere/`, web.base);
        await expect(nowhere).rejects.toMatchObject({ status: 404 });
        await r.get({ timeout: 10_000 });
      });
    });
  });
}
