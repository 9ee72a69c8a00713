import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApp, type Errand, type Worker } from '../../src/index.js';
import { defineWebTasks } from '../fixtures/web/tasks.js';
import { waitFor } from '../support/wait.js';
import { readSse, request, startAdapter, type AdapterName, type AdapterServer } from './web-support.js';

interface FeedEntry {
  cursor: number;
  task_id: string;
  name: string;
  state: string;
  version: number;
  result?: unknown;
}

/** Only user N (header x-user: N) may follow tag user:N. */
const feeds = {
  authorize: (request: { headers: Record<string, string | undefined> }, tag: string) =>
    request.headers['x-user'] !== undefined && tag === `user:${request.headers['x-user']}`,
};

/** The tag feed routes (poll, SSE, WebSocket) through one adapter. */
export function describeFeedRoutes(
  broker: { name: string; makeUrl(): string; cleanup?(url: string): Promise<void> },
  adapter: AdapterName,
): void {
  describe(`feed routes: ${adapter} on ${broker.name}`, () => {
    let url: string;
    let app: Errand;
    let tasks: ReturnType<typeof defineWebTasks>;
    let worker: Worker;
    let web: AdapterServer;
    let plain: AdapterServer;

    beforeAll(async () => {
      url = broker.makeUrl();
      app = createApp({ broker: url, logger: false });
      tasks = defineWebTasks(app);
      worker = app.worker({ handleSignals: false, claimWaitMs: 100, concurrency: 10 });
      await worker.start();
      web = await startAdapter(adapter, app, [''], { feeds, exposeResult: true });
      plain = await startAdapter(adapter, app, ['']);
    });

    afterAll(async () => {
      await web?.close();
      await plain?.close();
      await worker?.stop();
      await app?.close();
      await broker.cleanup?.(url);
    });

    const feedUrl = (tag: string, rest = '') => `${web.base}/feeds/${encodeURIComponent(tag)}/${rest}`;

    it('polling lists the tag’s tasks, each once at its latest state, and resumes from a cursor', async () => {
      const user = `${Date.now()}a`;
      const mine = await Promise.all([
        tasks.add.applyAsync([1, 2], { tags: [`user:${user}`] }),
        tasks.add.applyAsync([3, 4], { tags: [`user:${user}`, 'x'] }),
      ]);
      await tasks.add.applyAsync([5, 6], { tags: ['user:someone-else'] });
      await Promise.all(mine.map((r) => r.get({ timeout: 5000 })));
      const page = (await request(feedUrl(`user:${user}`), { 'x-user': user })).json() as {
        entries: FeedEntry[];
        cursor: number;
        more: boolean;
      };
      expect(page.entries.map((e) => e.task_id).sort()).toEqual(mine.map((r) => r.id).sort());
      expect(page.entries.map((e) => e.state)).toEqual(['SUCCESS', 'SUCCESS']);
      expect(page.entries.map((e) => e.result).sort()).toEqual([3, 7]);
      expect(page.entries[0]).toMatchObject({ name: 'web.add' });
      expect(page.more).toBe(false);
      const later = (await request(`${feedUrl(`user:${user}`)}?after=${page.cursor}`, { 'x-user': user })).json();
      expect(later).toEqual({ entries: [], cursor: page.cursor, more: false });
      const limited = (await request(`${feedUrl(`user:${user}`)}?limit=1`, { 'x-user': user })).json();
      expect(limited.entries).toHaveLength(1);
      expect(limited.more).toBe(true);
    });

    it('refuses other users, bad tags and bad cursors with JSON errors, and is not mounted without feeds', async () => {
      const tag = 'user:7';
      expect((await request(feedUrl(tag), { 'x-user': '8' })).status).toBe(403);
      expect((await request(feedUrl(tag))).json()).toMatchObject({ error: 'forbidden' });
      expect((await request(feedUrl(tag, 'events'), { 'x-user': '8' })).status).toBe(403);
      const badTag = await request(feedUrl('user:\u0001'), { 'x-user': '7' });
      expect(badTag.status).toBe(400);
      expect(badTag.json()).toMatchObject({ error: 'bad_request', field: 'tag' });
      const badCursor = await request(`${feedUrl(tag)}?after=soon`, { 'x-user': '7' });
      expect(badCursor.json()).toMatchObject({ error: 'bad_request', field: 'after' });
      expect((await request(`${feedUrl(tag)}?limit=9999`, { 'x-user': '7' })).json()).toMatchObject({ field: 'limit' });
      expect((await request(`${plain.base}/feeds/${encodeURIComponent(tag)}/`, { 'x-user': '7' })).status).toBe(404);
    });

    it('SSE sends every change with the cursor as id, and Last-Event-ID resumes after it', async () => {
      const user = `${Date.now()}s`;
      const tag = `user:${user}`;
      const controller = new AbortController();
      const wanted = { id: '' };
      const events: FeedEntry[] = [];
      const reading = readSse(
        feedUrl(tag, 'events'),
        { 'x-user': user },
        (event) => {
          const entry = JSON.parse(event.data) as FeedEntry;
          expect(event.id).toBe(String(entry.cursor));
          events.push(entry);
          if (entry.task_id === wanted.id && entry.state === 'SUCCESS') controller.abort();
        },
        controller.signal,
      ).catch((error: unknown) => {
        if ((error as Error).name !== 'AbortError') throw error;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const r = await tasks.steps.applyAsync([3, 10], { tags: [tag] });
      wanted.id = r.id;
      await reading;
      const states = events.filter((e) => e.task_id === r.id).map((e) => e.state);
      expect(states.at(-1)).toBe('SUCCESS');
      expect(states[0]).toMatch(/PENDING|STARTED|PROGRESS/);
      for (let i = 1; i < events.length; i++) expect(events[i]!.cursor).toBeGreaterThan(events[i - 1]!.cursor);
      // resume after the first event: only later changes come, the terminal state last
      const again = new AbortController();
      const resumed: FeedEntry[] = [];
      await readSse(
        feedUrl(tag, 'events'),
        { 'x-user': user, 'last-event-id': String(events[0]!.cursor) },
        (event) => {
          resumed.push(JSON.parse(event.data) as FeedEntry);
          again.abort();
        },
        again.signal,
      ).catch(() => undefined);
      expect(resumed[0]!.cursor).toBeGreaterThan(events[0]!.cursor);
      expect(resumed[0]).toMatchObject({ task_id: r.id, state: 'SUCCESS' });
    });

    it('a WebSocket gets each change as a message; another Origin and another user are refused before the handshake', async () => {
      const user = `${Date.now()}w`;
      const tag = `user:${user}`;
      const wsUrl = `${web.wsBase}/ws/feeds/${encodeURIComponent(tag)}/`;
      const ws = new WebSocket(wsUrl, { headers: { 'x-user': user } });
      const got: FeedEntry[] = [];
      ws.on('message', (data) => got.push(JSON.parse(String(data)) as FeedEntry));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const r = await tasks.add.applyAsync([20, 22], { tags: [tag] });
      await waitFor(() => got.some((e) => e.task_id === r.id && e.state === 'SUCCESS'), 5000);
      expect(got.find((e) => e.state === 'SUCCESS')).toMatchObject({ task_id: r.id, result: 42 });
      ws.close();
      const refusedWith = (headers: Record<string, string>) =>
        new Promise<number>((resolve) => {
          const other = new WebSocket(wsUrl, { headers });
          other.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          other.on('open', () => resolve(101));
          other.on('error', () => undefined);
        });
      expect(await refusedWith({ 'x-user': user, origin: 'https://evil.example' })).toBe(403);
      expect(await refusedWith({ 'x-user': 'nobody' })).toBe(403);
    });
  });
}
