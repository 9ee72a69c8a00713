import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp, type Errand } from '../../src/index.js';
import { freePort } from '../fixtures/app/demo-env.js';
import { roomTasks } from '../fixtures/web/room-tasks.js';
import { connectChannel } from '../support/channel-client.js';
import { startChild, stopChild, type Child } from '../support/child.js';
import { describeRedis, REDIS_URL, uniqueRedisUrl } from '../support/redis.js';
import { delay } from '../support/wait.js';

// Chat rooms across processes on the Redis channel layer: two web processes
// (the reference app's app/web-main.ts) and a worker whose task posts into a room.
describeRedis('channel routes across processes (Redis)', () => {
  const children: Child[] = [];
  let worker: Child | undefined;
  const webs: string[] = [];
  let app: Errand;

  beforeAll(async () => {
    const broker = uniqueRedisUrl('chat');
    const prefix = new URL(broker).searchParams.get('prefix')!;
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const web = await startChild(
        'app/web-main.ts',
        { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ERRAND_BROKER: broker },
        'listening on',
      );
      children.push(web);
      webs.push(`ws://127.0.0.1:${port}`);
    }
    // The web processes' layer prefix: app/channel-layer.ts derives it from the broker URL's.
    worker = await startChild('test/fixtures/web/room-worker.ts', {
      BROKER_URL: broker,
      CHANNEL_URL: REDIS_URL,
      CHANNEL_PREFIX: `${prefix}:channels`,
    });
    app = createApp({ broker, logger: false });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    // The web processes shut down on SIGTERM, their layer with them; the worker is just killed.
    for (const web of children) {
      await stopChild(web, 'SIGTERM');
      expect(await web.exited).toBe(0);
    }
    if (worker) await stopChild(worker);
  }, 30_000);

  it('delivers a room message to its members on both web processes, and to no other room', async () => {
    const ada = await connectChannel(`${webs[0]}/ws/chat/lobby/`);
    const bob = await connectChannel(`${webs[1]}/ws/chat/lobby/`);
    const eve = await connectChannel(`${webs[1]}/ws/chat/elsewhere/`);
    ada.sendJson({ message: 'hello from web 1', username: 'ada' });
    bob.sendJson({ message: 'hello from web 2', username: 'bob' });
    const expected = expect.arrayContaining([
      { message: 'hello from web 1', username: 'ada' },
      { message: 'hello from web 2', username: 'bob' },
    ]);
    expect(await ada.received(2)).toEqual(expected);
    expect(await bob.received(2)).toEqual(expected);
    await delay(100);
    expect(eve.messages).toEqual([]);
    for (const c of [ada, bob, eve]) c.ws.close();
  });

  it('lets a task in a worker process post into a room', async () => {
    const ada = await connectChannel(`${webs[0]}/ws/chat/news/`);
    const bob = await connectChannel(`${webs[1]}/ws/chat/news/`);
    const { post } = roomTasks(app);
    const r = await post.delay('news', 'posted by a task');
    expect(await r.get({ timeout: 10_000 })).toBe('posted');
    const message = { message: 'posted by a task', username: 'worker' };
    expect(await ada.received(1)).toEqual([message]);
    expect(await bob.received(1)).toEqual([message]);
    ada.ws.close();
    bob.ws.close();
  });
});
