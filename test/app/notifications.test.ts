import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoApp } from '../../app/tasks.js';
import { VISITOR_COOKIE } from '../../app/visitor.js';
import { CHROMIUM, haveChromium, requireChromiumInCi } from '../support/chromium.js';
import { startDemoServer, type DemoServer } from './demo-server.js';

// /notifications/: seed 003's per-user updates, a toast per task of the visitor in every tab, from the tag feed.
// Into docs/ only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean.
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : `${tmpdir()}/errand-screenshots-`;

let running: DemoServer;
let demo: DemoApp;
let base: string;

beforeAll(async () => {
  running = await startDemoServer({ demo: { progressItemMs: 10 } });
  ({ demo, base } = running);
}, 60_000);

afterAll(async () => running?.close());

/** A visitor's cookies and the tag the page names, from a first visit. */
async function visit(): Promise<{ cookie: string; token: string; tag: string }> {
  const page = await fetch(`${base}/notifications/`);
  expect(page.status).toBe(200);
  const cookies = page.headers.getSetCookie();
  const token = /csrftoken=([^;]+)/.exec(cookies.join('\n'))?.[1];
  const visitor = new RegExp(`${VISITOR_COOKIE}=([^;]+)`).exec(cookies.join('\n'))?.[1];
  if (!token || !visitor) throw new Error('no csrftoken or visitor cookie');
  expect(cookies.find((c) => c.startsWith(VISITOR_COOKIE))).toMatch(/HttpOnly/i);
  const tag = /data-tag="([^"]+)"/.exec(await page.text())?.[1];
  return { cookie: `csrftoken=${token}; ${VISITOR_COOKIE}=${visitor}`, token, tag: tag! };
}

describe('/notifications/ over HTTP', () => {
  it('starts a task tagged with the visitor, listed in their feed and refused to anyone else', async () => {
    const me = await visit();
    const other = await visit();
    expect(me.tag).toMatch(/^visitor:/);
    const started = await fetch(`${base}/notifications/`, {
      method: 'POST',
      headers: { cookie: me.cookie, 'x-csrftoken': me.token, origin: base },
    });
    expect(started.status).toBe(202);
    const { task_id: id } = (await started.json()) as { task_id: string };
    await demo.app.result(id).get({ timeout: 10_000 });
    const feed = `${base}/feeds/${encodeURIComponent(me.tag)}/`;
    const mine = await fetch(feed, { headers: { cookie: me.cookie } });
    expect(mine.status).toBe(200);
    const body = (await mine.json()) as { entries: Array<{ task_id: string; state: string }> };
    expect(body.entries).toEqual([expect.objectContaining({ task_id: id, state: 'SUCCESS' })]);
    expect((await fetch(feed, { headers: { cookie: other.cookie } })).status).toBe(403);
    expect((await fetch(feed)).status).toBe(403);
    const theirs = await fetch(`${base}/feeds/${encodeURIComponent(other.tag)}/`, { headers: { cookie: other.cookie } });
    expect(((await theirs.json()) as { entries: unknown[] }).entries).toEqual([]);
  });

  it('refuses a start without the CSRF token', async () => {
    const me = await visit();
    const res = await fetch(`${base}/notifications/`, { method: 'POST', headers: { cookie: me.cookie } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'csrf' });
  });
});

requireChromiumInCi('the notifications page test');

describe.skipIf(!haveChromium)('/notifications/ in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);
  afterAll(async () => browser?.close());

  const open = async (page: Page, problems: string[]): Promise<void> => {
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/notifications/`);
    await page.locator('#feed-state', { hasText: 'following your tasks' }).waitFor({ timeout: 10_000 });
  };

  it('a task started in one tab shows a toast in both tabs of the visitor, and none for another visitor', async () => {
    const problems: string[] = [];
    const context = await browser.newContext();
    const [tab1, tab2] = [await context.newPage(), await context.newPage()];
    const stranger = await (await browser.newContext()).newPage();
    for (const page of [tab1, tab2, stranger]) await open(page, problems);
    await tab1.click('#notify-form button[type="submit"]');
    for (const tab of [tab1, tab2]) {
      await tab.locator('.toast[data-state="SUCCESS"]').waitFor({ timeout: 20_000 });
      expect(await tab.locator('.toast').count()).toBe(1);
      expect(await tab.locator('.toast .toast-body').textContent()).toBe('done');
    }
    // a second task from the other tab: both tabs again, one toast each per task
    await tab2.click('#notify-form button[type="submit"]');
    for (const tab of [tab1, tab2]) await tab.locator('.toast[data-state="SUCCESS"]').nth(1).waitFor({ timeout: 20_000 });
    const ids = await Promise.all(
      [tab1, tab2].map((t) => t.locator('.toast').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.taskId).sort())),
    );
    expect(ids[0]).toEqual(ids[1]);
    expect(ids[0]).toHaveLength(2);
    expect(await stranger.locator('.toast').count()).toBe(0);
    await tab2.screenshot({ path: `${SCREENSHOTS}notifications.png` });
    expect(problems).toEqual([]);
    await context.close();
    await stranger.context().close();
  });
});
