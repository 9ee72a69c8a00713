import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config.js';
import { createDemoApp, type DemoApp } from '../../app/tasks.js';
import { buildWebServer } from '../../app/web.js';
import { CHROMIUM, haveChromium, requireChromiumInCi } from '../support/chromium.js';

// The chat rooms and the live chart in Debian's chromium, against the web process (memory broker and layer).
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : `${tmpdir()}/errand-screenshots-`;
const XSS = '<img src=x onerror=window.__xss=1>';

requireChromiumInCi('the chat and chart tests');

describe.skipIf(!haveChromium)('chat and live chart in a browser', () => {
  let server: FastifyInstance;
  let demo: DemoApp;
  let base: string;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    const config = loadConfig({ ERRAND_BROKER: 'memory://', CHART_INTERVAL_MS: '50' });
    demo = createDemoApp({ broker: 'memory://', demoApiUrl: config.demoApiUrl, logger: false });
    server = await buildWebServer({ config, demo });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await demo?.app.close();
    // Any CSP violation or script error on these pages is a bug.
    expect(problems).toEqual([]);
  }, 30_000);

  async function open(path: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${path}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${path}: ${e.message}`));
    await page.goto(`${base}${path}`);
    return page;
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill('#chat-input', text);
    await page.click('#chat-send');
  }

  const lines = (page: Page) => page.locator('#chat-log li').allTextContents();

  it('two people in one room see each other’s messages, as text', async () => {
    const join = await open('/chat/');
    await join.fill('#room', 'lobby');
    await join.fill('#username', 'ada');
    await join.click('button[type="submit"]');
    await join.waitForURL(/\/chat\/lobby\/\?username=ada$/);
    const ada = join;
    const bob = await open(`/chat/lobby/?username=${encodeURIComponent(XSS)}`);
    for (const page of [ada, bob]) await page.waitForSelector('#chat[data-state="open"]');

    await say(ada, 'hello bob');
    await bob.waitForFunction(() => document.querySelectorAll('#chat-log li').length === 1);
    await say(bob, XSS);
    await ada.waitForFunction(() => document.querySelectorAll('#chat-log li').length === 2);
    const expected = ['ada: hello bob', `${XSS}: ${XSS}`];
    expect(await lines(ada)).toEqual(expected);
    expect(await lines(bob)).toEqual(expected);
    expect(await bob.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(await ada.locator('#chat-log img').count()).toBe(0);

    const other = await open('/chat/elsewhere/?username=eve');
    await other.waitForSelector('#chat[data-state="open"]');
    await say(ada, 'only lobby');
    await bob.waitForFunction(() => document.querySelectorAll('#chat-log li').length === 3);
    expect(await lines(other)).toEqual([]);
    await ada.screenshot({ path: `${SCREENSHOTS}chat.png` });
    for (const page of [ada, bob, other]) await page.context().close();
  }, 30_000);

  it('the live chart draws points as they arrive', async () => {
    const page = await open('/two/');
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>('#live-chart')!.dataset.points) >= 10);
    const drawn = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#live-chart')!;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let blue = 0;
      // The line is Bootstrap blue (#0d6efd): count its pixels.
      for (let i = 0; i < data.length; i += 4) if (data[i]! < 60 && data[i + 2]! > 200 && data[i + 3]! > 0) blue++;
      return blue;
    });
    expect(drawn).toBeGreaterThan(50);
    expect(Number(await page.textContent('#chart-count'))).toBeGreaterThanOrEqual(10);
    await page.screenshot({ path: `${SCREENSHOTS}two.png` });
    await page.context().close();
  }, 30_000);
});
