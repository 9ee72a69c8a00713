import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatRoute } from '../../app/channels/chat-route.js';
import { createMemoryChannelLayer, type ChannelLayer } from '../../src/channels/index.js';
import { createApp, type Errand } from '../../src/index.js';
import { AuthorizationError, CHANNEL_CLOSE, channelRoute, type ErrandWebOptions } from '../../src/web/index.js';
import { connectChannel } from '../support/channel-client.js';
import { delay, waitFor } from '../support/wait.js';
import { ADAPTERS, startAdapter, UpgradeRefused, type AdapterName, type AdapterServer } from '../web/web-support.js';

// The channel WebSocket route, through every adapter: rooms, validation, Origin, authorize, failures.
const failing = channelRoute({
  path: '/ws/failing/',
  onMessage: () => {
    throw new Error('handler bug');
  },
});
const guarded = channelRoute<{ room: string }>({
  path: '/ws/guarded/:room/',
  group: ({ room }) => `guarded_${room}`,
  authorize: (request) => {
    if (request.headers.authorization === undefined) throw new AuthorizationError(401, 'sign in first');
    return request.headers.authorization === 'Bearer ok';
  },
});

function options(layer: ChannelLayer): Omit<ErrandWebOptions, 'app' | 'prefix'> {
  return { channels: { layer, routes: [chatRoute, failing, guarded] } };
}

async function refusal(promise: Promise<unknown>): Promise<UpgradeRefused> {
  const error = await promise.then(
    () => new Error('the upgrade was accepted'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpgradeRefused);
  return error as UpgradeRefused;
}

for (const adapter of ADAPTERS) {
  describe(`channel routes (${adapter})`, () => {
    let app: Errand;
    let layer: ChannelLayer;
    let web: AdapterServer;

    beforeAll(async () => {
      app = createApp({ broker: 'memory://', logger: false });
      layer = createMemoryChannelLayer();
      web = await startAdapter(adapter as AdapterName, app, [''], options(layer));
    });

    afterAll(async () => {
      await web.close();
      await layer.close();
      await app.close();
    });

    it('two clients in one room see each other; another room does not', async () => {
      const ada = await connectChannel(`${web.wsBase}/ws/chat/lobby/`);
      const bob = await connectChannel(`${web.wsBase}/ws/chat/lobby`); // the trailing slash is optional
      const eve = await connectChannel(`${web.wsBase}/ws/chat/other/`);
      ada.sendJson({ message: 'hi bob', username: 'ada', extra: 'dropped' });
      await bob.received(1);
      bob.sendJson({ message: '<b>hi</b> ada', username: 'bob' });
      expect(await ada.received(2)).toEqual([
        { message: 'hi bob', username: 'ada' },
        { message: '<b>hi</b> ada', username: 'bob' },
      ]);
      expect(await bob.received(2)).toEqual(ada.messages);
      await delay(50);
      expect(eve.messages).toEqual([]);
      for (const c of [ada, bob, eve]) c.ws.close();
    });

    it('closes a socket with a bad room name (4400) and keeps serving', async () => {
      const bad = await connectChannel(`${web.wsBase}/ws/chat/no-dashes/`);
      expect((await bad.closed).code).toBe(CHANNEL_CLOSE.badParams);
      const long = await connectChannel(`${web.wsBase}/ws/chat/${'a'.repeat(51)}/`);
      expect((await long.closed).code).toBe(CHANNEL_CLOSE.badParams);
      const ok = await connectChannel(`${web.wsBase}/ws/chat/fine_room/`);
      ok.sendJson({ message: 'still up', username: 'x' });
      expect(await ok.received(1)).toEqual([{ message: 'still up', username: 'x' }]);
      ok.ws.close();
    });

    it.each([
      ['a non-JSON frame', (c: { ws: { send(d: unknown): void } }) => c.ws.send('not json{'), CHANNEL_CLOSE.badMessage],
      ['a JSON array', (c: { ws: { send(d: unknown): void } }) => c.ws.send('[1,2]'), CHANNEL_CLOSE.badMessage],
      [
        'a binary frame',
        (c: { ws: { send(d: unknown): void } }) => c.ws.send(Buffer.from('{"message":"a","username":"b"}')),
        CHANNEL_CLOSE.badMessage,
      ],
      [
        'a message without username',
        (c: { ws: { send(d: unknown): void } }) => c.ws.send('{"message":"a"}'),
        CHANNEL_CLOSE.badMessage,
      ],
      [
        'a message over 1000 characters',
        (c: { ws: { send(d: unknown): void } }) => c.ws.send(JSON.stringify({ message: 'x'.repeat(1001), username: 'b' })),
        CHANNEL_CLOSE.badMessage,
      ],
      [
        'a frame over maxMessageBytes',
        (c: { ws: { send(d: unknown): void } }) => c.ws.send(JSON.stringify({ message: 'x'.repeat(9000), username: 'b' })),
        CHANNEL_CLOSE.tooLarge,
      ],
      ['a frame over the frame limit', (c: { ws: { send(d: unknown): void } }) => c.ws.send('x'.repeat(200_000)), 1009],
    ])('closes on %s, and the room carries on', async (_what, send, code) => {
      const watcher = await connectChannel(`${web.wsBase}/ws/chat/strict/`);
      const culprit = await connectChannel(`${web.wsBase}/ws/chat/strict/`);
      send(culprit);
      expect((await culprit.closed).code).toBe(code);
      const next = await connectChannel(`${web.wsBase}/ws/chat/strict/`);
      next.sendJson({ message: 'after', username: 'n' });
      expect(await watcher.received(1)).toEqual([{ message: 'after', username: 'n' }]);
      watcher.ws.close();
      next.ws.close();
    });

    it('refuses a foreign Origin with 403 before the upgrade', async () => {
      const refused = await refusal(connectChannel(`${web.wsBase}/ws/chat/lobby/`, { origin: 'https://evil.example' }));
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toMatchObject({ error: 'forbidden' });
      const same = await connectChannel(`${web.wsBase}/ws/chat/lobby/`, { origin: web.base });
      same.ws.close();
    });

    it('asks authorize before the upgrade: 401 and 403 as JSON, true joins', async () => {
      const anonymous = await refusal(connectChannel(`${web.wsBase}/ws/guarded/a/`));
      expect(anonymous.status).toBe(401);
      expect(JSON.parse(anonymous.body)).toEqual({ error: 'unauthorized', message: 'sign in first' });
      const wrong = await refusal(connectChannel(`${web.wsBase}/ws/guarded/a/`, { headers: { authorization: 'Bearer no' } }));
      expect(wrong.status).toBe(403);
      const ok = await connectChannel(`${web.wsBase}/ws/guarded/a/`, { headers: { authorization: 'Bearer ok' } });
      await layer.groupSend('guarded_a', { hello: 'from the layer' });
      expect(await ok.received(1)).toEqual([{ hello: 'from the layer' }]);
      ok.ws.close();
    });

    it('closes with 1011 when the handler throws, and the server stays up', async () => {
      const client = await connectChannel(`${web.wsBase}/ws/failing/`);
      client.sendJson({ any: 'thing' });
      expect((await client.closed).code).toBe(CHANNEL_CLOSE.failed);
      const again = await connectChannel(`${web.wsBase}/ws/chat/lobby/`);
      again.ws.close();
    });
  });
}

describe('channel routes: membership and shutdown', () => {
  it('leaves the group on close and ends open sockets with 1001 when the server closes', async () => {
    const app = createApp({ broker: 'memory://', logger: false });
    const layer = createMemoryChannelLayer();
    const closedChannels: string[] = [];
    const spy: ChannelLayer = Object.assign(Object.create(layer) as ChannelLayer, {
      closeChannel: async (channel: string) => {
        closedChannels.push(channel);
        await layer.closeChannel(channel);
      },
    });
    const web = await startAdapter('fastify', app, [''], { channels: { layer: spy, routes: [chatRoute] } });
    const leaving = await connectChannel(`${web.wsBase}/ws/chat/lobby/`);
    leaving.ws.close();
    await leaving.closed;
    await delay(50);
    expect(closedChannels).toHaveLength(1);
    const staying = await connectChannel(`${web.wsBase}/ws/chat/lobby/`);
    const closing = web.close();
    expect((await staying.closed).code).toBe(CHANNEL_CLOSE.goingAway);
    await closing;
    expect(closedChannels).toHaveLength(2);
    await layer.close();
    await app.close();
  });

  it('leaves no membership behind when the client goes during the handshake', async () => {
    const app = createApp({ broker: 'memory://', logger: false });
    const layer = createMemoryChannelLayer();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const joined: string[] = [];
    const closedChannels: string[] = [];
    const spy: ChannelLayer = Object.assign(Object.create(layer) as ChannelLayer, {
      groupAdd: async (group: string, channel: string) => {
        joined.push(channel);
        await gate;
        await layer.groupAdd(group, channel);
      },
      closeChannel: async (channel: string) => {
        closedChannels.push(channel);
        await layer.closeChannel(channel);
      },
    });
    const web = await startAdapter('node', app, [''], { channels: { layer: spy, routes: [chatRoute] } });
    const { port } = new URL(web.base);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      'GET /ws/chat/lobby/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await waitFor(() => joined.length === 1, 5000, 'the join');
    socket.destroy();
    await delay(50);
    release();
    await waitFor(() => closedChannels.length === 1, 5000, 'the channel to close');
    expect(closedChannels).toEqual(joined);
    await web.close();
    await layer.close();
    await app.close();
  });

  it('skips the oldest messages for a client that does not read, and never buffers them all', async () => {
    const app = createApp({ broker: 'memory://', logger: false });
    const layer = createMemoryChannelLayer({ capacity: 10 });
    const web = await startAdapter('fastify', app, [''], { channels: { layer, routes: [chatRoute] } });
    const slow = await connectChannel(`${web.wsBase}/ws/chat/firehose/`);
    slow.ws.pause();
    const TOTAL = 1500;
    const padding = 'x'.repeat(16 * 1024);
    for (let i = 0; i < TOTAL; i++) await layer.groupSend('chat_firehose', { message: `${i}`, username: padding });
    await delay(300);
    slow.ws.resume();
    await waitFor(async () => {
      const before = slow.messages.length;
      await delay(200);
      return slow.messages.length === before && before > 0;
    }, 10_000);
    const seen = slow.messages.map((m) => Number((m as { message: string }).message));
    expect(seen.length).toBeLessThan(TOTAL);
    expect(seen.at(-1)).toBe(TOTAL - 1); // the newest always arrives
    expect(seen).toEqual([...seen].sort((a, b) => a - b)); // in order, with gaps
    slow.ws.close();
    await web.close();
    await layer.close();
    await app.close();
  }, 30_000);

  it('refuses a bad channels option when the adapter is created', async () => {
    const app = createApp({ broker: 'memory://', logger: false });
    await expect(startAdapter('node', app, [''], { channels: { routes: [chatRoute] } })).rejects.toThrow(
      /channels.layer is needed/,
    );
    await app.close();
  });
});
