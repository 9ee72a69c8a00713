import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Errand, type Worker } from '../../src/index.js';
import { peekHub } from '../../src/web/hub-registry.js';
import { AuthorizationError, type WebRequest } from '../../src/web/index.js';
import { startChild, stopChild, type Child } from '../support/child.js';
import { waitFor } from '../support/wait.js';
import { defineWebTasks } from '../fixtures/web/tasks.js';
import {
  collectWs,
  expectIncreasing,
  readSse,
  request,
  startAdapter,
  states,
  UpgradeRefused,
  type AdapterName,
  type AdapterServer,
  type WebOptions,
} from './web-support.js';

export interface WebTarget {
  name: string;
  /** A broker URL of a fresh namespace. */
  makeUrl(): string;
  /** Run the worker in a child process (cross-process brokers), else in the test process. */
  separateWorker: boolean;
  cleanup?(url: string): Promise<void>;
}

/** What each adapter hands `authorize` as `request.native` for poll and SSE. */
const NATIVE_HTTP: Record<AdapterName, (native: unknown) => boolean> = {
  fastify: (native) => (native as { raw?: unknown }).raw instanceof IncomingMessage,
  express: (native) => native instanceof IncomingMessage && typeof (native as { app?: unknown }).app === 'function',
  hono: (native) => typeof (native as { req?: { raw?: { url?: unknown } } }).req?.raw?.url === 'string',
  node: (native) => native instanceof IncomingMessage,
};

/**
 * The status endpoints' contract through one adapter, with the worker in
 * another process where the broker allows it: poll, SSE and WebSocket with the
 * default options (no result exposed), then authorize and expose.
 */
export function describeWebSuite(target: WebTarget, adapter: AdapterName = 'fastify'): void {
  describe(`web: ${adapter} on ${target.name}${target.separateWorker ? ' (worker in a child process)' : ''}`, () => {
    let url: string;
    let app: Errand;
    let tasks: ReturnType<typeof defineWebTasks>;
    let web: AdapterServer;
    let child: Child | undefined;
    let worker: Worker | undefined;
    const servers: AdapterServer[] = [];

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
      web = await startAdapter(adapter, app, ['', '/users']);
    });

    afterAll(async () => {
      for (const server of servers) await server.close();
      await web?.close();
      if (child) await stopChild(child);
      await worker?.stop();
      await app?.close();
      await target.cleanup?.(url);
    });

    /** Another server on the same app, with other options; closed after the suite. */
    async function serve(options: WebOptions): Promise<AdapterServer> {
      const server = await startAdapter(adapter, app, [''], options);
      servers.push(server);
      return server;
    }

    /** A task that stays PENDING (due in a minute). */
    const pendingTask = () => tasks.add.applyAsync([1, 1], { countdown: 60_000 });
    const finished = async (a: number, b: number) => {
      const r = await tasks.add.delay(a, b);
      await r.get({ timeout: 10_000 });
      return r;
    };

    describe('poll GET /task_status/', () => {
      it('answers 200 with state and version, ETag = version, 304 when unchanged, then SUCCESS without the result', async () => {
        const waiting = await pendingTask();
        const first = await request(`${web.base}/task_status/?task_id=${waiting.id}`);
        expect(first.status).toBe(200);
        expect(first.json()).toEqual({ state: 'PENDING', version: 1 });
        expect(first.headers.get('etag')).toBe('"1"');
        expect(first.headers.get('cache-control')).toBe('no-cache');
        expect(first.headers.get('content-type')).toMatch(/^application\/json/);
        const again = await request(`${web.base}/task_status/?task_id=${waiting.id}`, { 'if-none-match': '"1"' });
        expect(again.status).toBe(304);
        expect(again.body).toBe('');
        await waiting.revoke();

        const r = await tasks.add.delay(2, 3);
        expect(await r.get({ timeout: 10_000 })).toBe(5);
        const done = await request(`${web.base}/users/task_status/?task_id=${r.id}`, { 'if-none-match': '"1"' });
        expect(done.status).toBe(200);
        const body = done.json();
        expect(body).toMatchObject({ state: 'SUCCESS' });
        expect(body).not.toHaveProperty('result'); // not exposed by default
        expect(done.headers.get('etag')).toBe(`"${body.version}"`);
      });

      it('answers a FAILURE with the error message and class', async () => {
        const r = await tasks.fail.delay('no such file');
        await expect(r.get({ timeout: 10_000 })).rejects.toThrow();
        const res = await request(`${web.base}/task_status/?task_id=${r.id}`);
        expect(res.json()).toMatchObject({ state: 'FAILURE', error: 'no such file', errorType: 'TypeError' });
      });

      it('answers 404 for an unknown id, never PENDING', async () => {
        const res = await request(`${web.base}/task_status/?task_id=${randomUUID()}`);
        expect(res.status).toBe(404);
        expect(res.json()).toMatchObject({ error: 'not_found' });
        expect(res.json().message).toMatch(/no task/);
      });

      it('answers 400 naming the field for a missing or malformed task_id', async () => {
        for (const query of ['', '?task_id=', '?task_id=nope', `?task_id=${randomUUID()}&task_id=${randomUUID()}`]) {
          const res = await request(`${web.base}/task_status/${query}`);
          expect(res.status, query).toBe(400);
          expect(res.json()).toMatchObject({ error: 'bad_request', field: 'task_id' });
        }
        expect((await request(`${web.base}/task_status/`)).json().message).toMatch(/required/);
      });

      it('answers HEAD with the headers and no body', async () => {
        const r = await finished(1, 1);
        const res = await request(`${web.base}/task_status/?task_id=${r.id}`, {}, 'HEAD');
        expect(res.status).toBe(200);
        expect(res.headers.get('etag')).toMatch(/^"\d+"$/);
        expect(res.body).toBe('');
      });

      it('answers without the trailing slash too, and SSE with one (frameworks that add or strip it)', async () => {
        const r = await finished(1, 1);
        const poll = await request(`${web.base}/users/task_status?task_id=${r.id}`);
        expect(poll.status).toBe(200);
        expect(JSON.parse(poll.body)).toMatchObject({ state: 'SUCCESS' });
        const { events } = await readSse(`${web.base}/tasks/${r.id}/events/`);
        expect(events.map((e) => JSON.parse(e.data))).toMatchObject([{ state: 'SUCCESS' }]);
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
        expect(messages.at(-1)).toMatchObject({ state: 'SUCCESS' });
        expect(messages.at(-1)).not.toHaveProperty('result');
        expect(states(messages)).toContain('PROGRESS');
        expect(messages.find((m) => m.state === 'PROGRESS').progress).toMatchObject({ current: 1, total: 3 });
        expect(events.map((e) => Number(e.id))).toEqual(messages.map((m) => m.version));
        expect(events.every((e) => e.event === undefined)).toBe(true); // one `message` event type
        expectIncreasing(messages.map((m) => m.version));
      });

      it('a late subscriber gets the final state once, then the stream ends', async () => {
        const r = await finished(20, 22);
        const { events } = await readSse(`${web.base}/users/tasks/${r.id}/events`);
        expect(events.map((e) => JSON.parse(e.data))).toMatchObject([{ state: 'SUCCESS' }]);
      });

      it('resumes after Last-Event-ID, and answers 204 once the client has the terminal event', async () => {
        const r = await finished(1, 2);
        const final = (await r.info())!.version;
        const resumed = await readSse(`${web.base}/tasks/${r.id}/events`, { 'last-event-id': '1' });
        expect(resumed.events.map((e) => Number(e.id))).toEqual([final]);
        const over = await readSse(`${web.base}/tasks/${r.id}/events`, { 'last-event-id': String(final) });
        expect(over.status).toBe(204);
        const viaQuery = await readSse(`${web.base}/tasks/${r.id}/events?lastEventId=${final}`);
        expect(viaQuery.status).toBe(204);
      });

      it('answers 404 for an unknown id and 400 for a malformed one', async () => {
        const missing = await request(`${web.base}/tasks/${randomUUID()}/events`);
        expect(missing.status).toBe(404);
        expect(missing.json()).toMatchObject({ error: 'not_found' });
        const bad = await request(`${web.base}/tasks/xyz/events`);
        expect(bad.status).toBe(400);
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
        expect(messages.at(-1)).toMatchObject({ state: 'SUCCESS' });
        expect(messages.at(-1)).not.toHaveProperty('result');
        expect(states(messages)).toContain('STARTED');
        expectIncreasing(messages.map((m) => m.version));
        expect(code).toBe(1000);
      });

      it('serves both prefixes through one upgrade listener; a late subscriber gets the final state', async () => {
        const r = await finished(4, 4);
        const { messages, code } = await collectWs(`${web.wsBase}/users/ws/task_status/${r.id}`, web.base);
        expect(messages).toMatchObject([{ state: 'SUCCESS' }]);
        expect(code).toBe(1000);
        expect(web.server.listenerCount('upgrade')).toBe(1);
      });

      it('closes with 4404 for an unknown id and 4400 for a malformed one', async () => {
        const unknown = await collectWs(`${web.wsBase}/ws/task_status/${randomUUID()}/`, web.base);
        expect(unknown).toMatchObject({ messages: [], code: 4404 });
        const bad = await collectWs(`${web.wsBase}/ws/task_status/not-an-id/`, web.base);
        expect(bad).toMatchObject({ messages: [], code: 4400 });
      });

      it('refuses another site with 403 JSON before the upgrade, and unknown paths with 404', async () => {
        const r = await tasks.add.delay(1, 1);
        const evil = collectWs(`${web.wsBase}/ws/task_status/${r.id}/`, 'https://evil.example');
        const refused = await evil.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(refused).toBeInstanceOf(UpgradeRefused);
        expect(refused).toMatchObject({ status: 403 });
        expect(JSON.parse((refused as UpgradeRefused).body)).toMatchObject({ error: 'forbidden' });
        const nowhere = collectWs(`${web.wsBase}/ws/elsewhere/`, web.base);
        await expect(nowhere).rejects.toMatchObject({ status: 404 });
        await r.get({ timeout: 10_000 });
      });
    });

    describe('authorize', () => {
      let guarded: AdapterServer;
      const seen: Array<{ transport: string; method: string; path: string; taskId: string; native: unknown }> = [];
      /** session=good may watch, session=other may not (403), no session is 401. */
      const authorize = async (request: WebRequest, taskId: string) => {
        seen.push({ transport: request.transport, method: request.method, path: request.path, taskId, native: request.native });
        await new Promise((r) => setTimeout(r, 1)); // may be async
        if (request.cookies.session === undefined) throw new AuthorizationError(401, 'sign in first');
        return request.cookies.session === 'good';
      };
      const good = { cookie: 'theme=dark; session=good' };
      const other = { cookie: 'session=other' };

      beforeAll(async () => {
        guarded = await serve({ authorize });
      });

      it('refuses poll, SSE and WebSocket without credentials (401) and with the wrong ones (403), for known and unknown ids alike', async () => {
        const r = await finished(2, 2);
        for (const id of [r.id, randomUUID()]) {
          for (const [headers, status, error] of [
            [{}, 401, 'unauthorized'],
            [other, 403, 'forbidden'],
          ] as const) {
            const poll = await request(`${guarded.base}/task_status/?task_id=${id}`, headers);
            expect(poll.status).toBe(status);
            expect(poll.json()).toMatchObject({ error });
            expect(poll.body).not.toMatch(/SUCCESS|result|"4"/);
            const sse = await readSse(`${guarded.base}/tasks/${id}/events`, headers);
            expect(sse.status).toBe(status);
            expect(JSON.parse(sse.body!)).toMatchObject({ error });
            const ws = collectWs(`${guarded.wsBase}/ws/task_status/${id}/`, guarded.base, undefined, headers);
            const refused = await ws.then(
              (outcome) => outcome,
              (e: unknown) => e,
            );
            expect(refused).toBeInstanceOf(UpgradeRefused); // an HTTP answer: no handshake, no message
            expect(refused).toMatchObject({ status });
            expect(JSON.parse((refused as UpgradeRefused).body)).toMatchObject({ error });
          }
        }
        expect(JSON.parse((await request(`${guarded.base}/task_status/?task_id=${r.id}`)).body).message).toBe('sign in first');
      });

      it('lets the right credentials through on every transport, and tells authorize the transport, the id and the request', async () => {
        const r = await finished(3, 3);
        seen.length = 0;
        const poll = await request(`${guarded.base}/task_status/?task_id=${r.id}`, good);
        expect(poll.status).toBe(200);
        expect(poll.headers.get('cache-control')).toBe('no-cache, private'); // per user: no shared cache
        const sse = await readSse(`${guarded.base}/tasks/${r.id}/events`, good);
        expect(sse.events.map((e) => JSON.parse(e.data).state)).toEqual(['SUCCESS']);
        const ws = await collectWs(`${guarded.wsBase}/ws/task_status/${r.id}/`, guarded.base, undefined, good);
        expect(ws).toMatchObject({ messages: [{ state: 'SUCCESS' }], code: 1000 });
        expect(seen.map(({ transport, method, path, taskId }) => ({ transport, method, path, taskId }))).toEqual([
          { transport: 'http', method: 'GET', path: '/task_status/', taskId: r.id },
          { transport: 'http', method: 'GET', path: `/tasks/${r.id}/events`, taskId: r.id },
          { transport: 'websocket', method: 'GET', path: `/ws/task_status/${r.id}/`, taskId: r.id },
        ]);
        expect(NATIVE_HTTP[adapter](seen[0]!.native)).toBe(true);
        expect(NATIVE_HTTP[adapter](seen[1]!.native)).toBe(true);
        expect(seen[2]!.native).toBeInstanceOf(IncomingMessage); // upgrades bypass every framework's router
      });

      it('checks a malformed id (400) before authorize, and refuses with 500 when authorize throws', async () => {
        const bad = await request(`${guarded.base}/task_status/?task_id=nope`);
        expect(bad.status).toBe(400);
        const broken = await serve({
          authorize: () => {
            throw new Error('session store down: secret detail');
          },
        });
        const r = await finished(1, 3);
        const poll = await request(`${broken.base}/task_status/?task_id=${r.id}`);
        expect(poll.status).toBe(500);
        expect(poll.json()).toEqual({ error: 'internal', message: 'authorization failed' });
        await expect(collectWs(`${broken.wsBase}/ws/task_status/${r.id}/`, broken.base)).rejects.toMatchObject({ status: 500 });
      });
    });

    describe('expose', () => {
      it('exposeResult: true sends the result on poll, SSE and WebSocket', async () => {
        const open = await serve({ exposeResult: true });
        const r = await finished(5, 6);
        expect((await request(`${open.base}/task_status/?task_id=${r.id}`)).json()).toMatchObject({
          state: 'SUCCESS',
          result: 11,
        });
        const sse = await readSse(`${open.base}/tasks/${r.id}/events`);
        expect(JSON.parse(sse.events[0]!.data)).toMatchObject({ state: 'SUCCESS', result: 11 });
        const ws = await collectWs(`${open.wsBase}/ws/task_status/${r.id}/`, open.base);
        expect(ws.messages).toMatchObject([{ state: 'SUCCESS', result: 11 }]);
      });

      it('an expose function chooses the fields per request; a list hides the rest', async () => {
        const chooser = await serve({
          expose: (info, request) => (request.headers['x-owner'] === '1' && info.name === 'web.add' ? ['result'] : []),
        });
        const r = await finished(7, 7);
        const owner = { 'x-owner': '1' };
        expect((await request(`${chooser.base}/task_status/?task_id=${r.id}`, owner)).json()).toMatchObject({ result: 14 });
        expect(JSON.parse((await readSse(`${chooser.base}/tasks/${r.id}/events`, owner)).events[0]!.data)).toMatchObject({
          result: 14,
        });
        expect(
          (await collectWs(`${chooser.wsBase}/ws/task_status/${r.id}/`, chooser.base, undefined, owner)).messages,
        ).toMatchObject([{ result: 14 }]);
        const stranger = await request(`${chooser.base}/task_status/?task_id=${r.id}`);
        expect(Object.keys(stranger.json()).sort()).toEqual(['state', 'version']);
        expect(stranger.headers.get('cache-control')).toBe('no-cache, private');

        const quiet = await serve({ expose: ['progress'] });
        const failed = await tasks.fail.delay('disk on fire');
        await expect(failed.get({ timeout: 10_000 })).rejects.toThrow();
        const ws = await collectWs(`${quiet.wsBase}/ws/task_status/${failed.id}/`, quiet.base);
        expect(ws.messages).toEqual([{ state: 'FAILURE', version: expect.any(Number) }]);
      });
    });
  });
}
