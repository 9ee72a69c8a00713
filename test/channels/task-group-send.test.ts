import { afterEach, expect, it } from 'vitest';
import { createMemoryChannelLayer } from '../../src/channels/index.js';
import { createApp, type Errand } from '../../src/index.js';

// ctx.groupSend: a task posts into a channel-layer group from its worker.
const apps: Errand[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

it('a task reaches every member of the group through the app’s channel layer', async () => {
  const layer = createMemoryChannelLayer();
  const app = createApp({ broker: 'memory://', logger: false, channels: layer });
  apps.push(app);
  const announce = app.task('room.announce', async (ctx, room: string, text: string) => {
    await ctx.groupSend(`chat_${room}`, { message: text, username: 'worker' });
    return 'sent';
  });
  const [a, b, other] = await Promise.all([layer.newChannel(), layer.newChannel(), layer.newChannel()]);
  await layer.groupAdd('chat_lobby', a);
  await layer.groupAdd('chat_lobby', b);
  await layer.groupAdd('chat_elsewhere', other);
  const worker = app.worker({ handleSignals: false, claimWaitMs: 50 });
  await worker.start();
  expect(await (await announce.delay('lobby', 'hello')).get({ timeout: 5000 })).toBe('sent');
  for (const channel of [a, b]) {
    const next = await layer.receive(channel).next();
    expect(next.value).toEqual({ message: 'hello', username: 'worker' });
  }
  // the other room got nothing: its reader ends at the timeout without a message
  const rest = await layer.receive(other, { signal: AbortSignal.timeout(200) }).next();
  expect(rest.done).toBe(true);
  await worker.stop();
  await layer.close();
});

it('without a channel layer the task fails with a ConfigError that says how to give one', async () => {
  const app = createApp({ broker: 'memory://', logger: false });
  apps.push(app);
  const announce = app.task('room.announce', async (ctx) => ctx.groupSend('chat_lobby', { message: 'x' }));
  const worker = app.worker({ handleSignals: false, claimWaitMs: 50 });
  await worker.start();
  const r = await announce.delay();
  await expect(r.get({ timeout: 5000 })).rejects.toMatchObject({ error: { type: 'ConfigError' } });
  expect((await r.info())?.error?.message).toContain('createApp({ channels');
  await worker.stop();
});
