import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createMemoryChannelLayer } from '../../src/channels/index.js';
import { createApp } from '../../src/index.js';
import { errandMetrics } from '../../src/metrics/index.js';
import { defineWebTasks } from '../fixtures/web/tasks.js';
import { waitFor } from '../support/wait.js';
import { startWeb } from '../web/web-support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

it('metrics count open status subscribers by transport, poll requests and channel-layer messages', async () => {
  const app = createApp({ broker: 'memory://', logger: false });
  cleanups.push(() => app.close());
  const tasks = defineWebTasks(app);
  const web = await startWeb(app, ['']);
  cleanups.push(() => web.fastify.close());
  const metrics = errandMetrics(app);
  const scrape = async (): Promise<string> => (await metrics.render()).body;
  const before = await scrape();
  const base = {
    sse: sample(before, 'errand_status_subscribers', { transport: 'sse' }) ?? 0,
    ws: sample(before, 'errand_status_subscribers', { transport: 'ws' }) ?? 0,
    polls: sample(before, 'errand_status_polls_total') ?? 0,
    sent: sample(before, 'errand_channel_messages_total', { direction: 'sent' }) ?? 0,
    delivered: sample(before, 'errand_channel_messages_total', { direction: 'delivered' }) ?? 0,
  };

  const r = await tasks.add.applyAsync([1, 1], { countdown: 60_000 });
  for (let i = 0; i < 3; i++) await fetch(`${web.base}/task_status/?task_id=${r.id}`);
  const sse = new AbortController();
  const stream = await fetch(`${web.base}/tasks/${r.id}/events`, { signal: sse.signal });
  const sockets = [
    new WebSocket(`${web.wsBase}/ws/task_status/${r.id}/`),
    new WebSocket(`${web.wsBase}/ws/task_status/${r.id}/`),
  ];
  await Promise.all(sockets.map((ws) => new Promise((resolve) => ws.once('message', resolve))));
  let text = await scrape();
  expect(sample(text, 'errand_status_polls_total')! - base.polls).toBe(3);
  expect(sample(text, 'errand_status_subscribers', { transport: 'sse' })! - base.sse).toBe(1);
  expect(sample(text, 'errand_status_subscribers', { transport: 'ws' })! - base.ws).toBe(2);

  sse.abort();
  await stream.body?.cancel().catch(() => {});
  for (const ws of sockets) ws.close();
  await waitFor(async () => {
    const now = await scrape();
    return (
      sample(now, 'errand_status_subscribers', { transport: 'sse' }) === base.sse &&
      sample(now, 'errand_status_subscribers', { transport: 'ws' }) === base.ws
    );
  });

  const layer = createMemoryChannelLayer();
  cleanups.push(() => layer.close());
  const [a, b] = [await layer.newChannel(), await layer.newChannel()];
  await layer.groupAdd('room', a);
  await layer.groupAdd('room', b);
  await layer.groupSend('room', { text: 'hi' });
  await layer.send(a, { text: 'direct' });
  text = await scrape();
  expect(sample(text, 'errand_channel_messages_total', { direction: 'sent' })! - base.sent).toBe(2);
  expect(sample(text, 'errand_channel_messages_total', { direction: 'delivered' })! - base.delivered).toBe(3);
});
