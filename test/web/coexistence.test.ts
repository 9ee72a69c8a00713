import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttp2 } from 'node:http2';
import { createServer as createHttps } from 'node:https';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigError, createApp, type Errand, type Worker } from '../../src/index.js';
import { createErrandHandler } from '../../src/web/node/index.js';
import { defineWebTasks } from '../fixtures/web/tasks.js';
import {
  ADAPTERS,
  collectWs,
  startAdapter,
  states,
  UpgradeRefused,
  type AdapterName,
  type AdapterServer,
} from './web-support.js';

// Issue 7, blocker 1: errand answers only the upgrades on its own paths. Another WebSocket server on
// the same HTTP server (@fastify/websocket, a ws WebSocketServer({ server }), a noServer handler) keeps
// working, in whichever order the two were set up and with permessage-deflate on or off; and errand's
// WebSocket still delivers the task status.

let app: Errand;
let worker: Worker;
let tasks: ReturnType<typeof defineWebTasks>;
const servers: AdapterServer[] = [];

beforeAll(async () => {
  app = createApp({ broker: 'memory://', logger: false });
  tasks = defineWebTasks(app);
  worker = app.worker({ handleSignals: false, claimWaitMs: 20 });
  await worker.start();
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await worker.stop();
  await app.close();
});

/** Sends three messages on `url` and resolves with the echoes and the negotiated extensions. */
function echo(url: string): Promise<{ echoes: string[]; extensions: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url); // offers permessage-deflate, as browsers do
    const echoes: string[] = [];
    ws.on('open', () => ['one', 'two', 'x'.repeat(2000)].forEach((m) => ws.send(m)));
    ws.on('message', (data) => {
      echoes.push(String(data));
      if (echoes.length === 3) ws.close(1000);
    });
    ws.on('close', (code) =>
      code === 1000 ? resolve({ echoes, extensions: ws.extensions }) : reject(new Error(`echo closed ${code}`)),
    );
    ws.on('unexpected-response', (_req, res) => reject(new UpgradeRefused(res.statusCode ?? 0, '')));
    ws.on('error', reject);
  });
}

/** The other server must echo, and errand must deliver a running task's states and close with 1000. */
async function expectBothWork(web: AdapterServer, echoPath: string, compression: boolean): Promise<void> {
  const { echoes, extensions } = await echo(`${web.wsBase}${echoPath}`);
  expect(echoes).toEqual(['one', 'two', 'x'.repeat(2000)]);
  if (compression) expect(extensions).toMatch(/permessage-deflate/);
  else expect(extensions).toBe('');
  const r = await tasks.steps.applyAsync([2, 20], { countdown: 200 });
  const [status, again] = await Promise.all([
    collectWs(`${web.wsBase}/ws/task_status/${r.id}/`, web.base),
    echo(`${web.wsBase}${echoPath}`), // at the same time as errand's socket
  ]);
  expect(again.echoes).toHaveLength(3);
  expect(states(status.messages)).toEqual(expect.arrayContaining(['PENDING', 'STARTED', 'SUCCESS']));
  expect(status.code).toBe(1000);
  // errand's prefixed route too, and the other server's 404 (not errand's) for a path nobody serves
  const done = await collectWs(`${web.wsBase}/users/ws/task_status/${r.id}/`, web.base);
  expect(done).toMatchObject({ messages: [{ state: 'SUCCESS' }], code: 1000 });
}

async function fastifyEcho(fastify: FastifyInstance, compression: boolean): Promise<void> {
  await fastify.register(fastifyWebsocket, { options: { perMessageDeflate: compression } });
  await fastify.register(async (scope) => {
    scope.get('/echo', { websocket: true }, (socket) => {
      socket.on('message', (m: Buffer) => socket.send(m.toString()));
    });
  });
}

describe('beside @fastify/websocket', () => {
  for (const order of ['before', 'after'] as const) {
    for (const compression of [false, true]) {
      it(`registered ${order} errandWeb, permessage-deflate ${compression ? 'on' : 'off'}`, async () => {
        const web = await startAdapter(
          'fastify',
          app,
          ['', '/users'],
          {},
          { [order]: (_server: Server, fastify?: FastifyInstance) => fastifyEcho(fastify!, compression) },
        );
        servers.push(web);
        await expectBothWork(web, '/echo', compression);
        // A path neither serves: @fastify/websocket answers (Fastify's 404); errand stays silent.
        await expect(collectWs(`${web.wsBase}/nowhere/`)).rejects.toMatchObject({ status: 404 });
      });
    }
  }
});

/** A ws WebSocketServer attached to the server itself: it takes every upgrade errand does not. */
function attachedEcho(compression: boolean) {
  return (server: Server): void => {
    const wss = new WebSocketServer({ server, perMessageDeflate: compression });
    wss.on('connection', (ws, request) => {
      if (request.url?.includes('/ws/task_status/')) ws.close(4999, 'errand path reached the other server');
      ws.on('message', (m) => ws.send(String(m)));
    });
    server.once('close', () => wss.close());
  };
}

/** The noServer pattern of ws's README: one 'upgrade' listener routing /echo, destroying the rest. */
function noServerEcho(compression: boolean) {
  return (server: Server): void => {
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: compression });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(String(m))));
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(request.url ?? '/', 'http://x').pathname === '/echo') {
        wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
      } else socket.destroy();
    });
  };
}

const OTHERS = [
  { name: 'ws WebSocketServer({ server })', make: attachedEcho },
  { name: 'ws noServer handler', make: noServerEcho },
];

describe.each(ADAPTERS)('beside a plain ws server on the same http.Server (%s)', (adapter: AdapterName) => {
  for (const other of OTHERS) {
    for (const order of ['before', 'after'] as const) {
      for (const compression of [false, true]) {
        it(`${other.name}, set up ${order} errand, permessage-deflate ${compression ? 'on' : 'off'}`, async () => {
          const web = await startAdapter(adapter, app, ['', '/users'], {}, { [order]: other.make(compression) });
          servers.push(web);
          await expectBothWork(web, '/echo', compression);
        });
      }
    }
  }

  it('answers 404 JSON for paths nobody serves only while errand is the only upgrade listener', async () => {
    const web = await startAdapter(adapter, app, ['']);
    servers.push(web);
    const alone = await collectWs(`${web.wsBase}/nowhere/`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(alone).toMatchObject({ status: 404 });
    expect(JSON.parse((alone as UpgradeRefused).body)).toMatchObject({ error: 'not_found' });
    attachedEcho(false)(web.server); // now another server takes every other path
    expect((await echo(`${web.wsBase}/nowhere/`)).echoes).toHaveLength(3);
  });
});

describe('attach', () => {
  it('refuses an HTTP/2 server (no upgrades there) with a ConfigError, and takes node:https', async () => {
    const handler = createErrandHandler({ app });
    try {
      expect(() => handler.attach(createHttp2())).toThrow(ConfigError);
      expect(() => handler.attach(createHttps())).not.toThrow();
    } finally {
      await handler.close();
    }
  });
});
