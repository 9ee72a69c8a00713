import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, haveChromium, requireChromiumInCi } from '../support/chromium.js';
import { startDashboard, type Dashboard } from './support.js';

const TOKEN = 'correct-horse-battery-staple';
const BIG = 'y'.repeat(3 * 1024 * 1024);

requireChromiumInCi('the dashboard login and big-value tests');

// The token login form, logout, and a 3 MB result paged in the detail view, in Chromium.
describe.skipIf(!haveChromium)('the token-protected dashboard in a browser', () => {
  let d: Dashboard;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    d = await startDashboard({ token: TOKEN }, 'memory://', (app) => void app.task('blob.make', () => BIG), 16 * 1024 * 1024);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await d?.close();
    expect(problems).toEqual([]);
  }, 30_000);

  async function newPage(): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      // the wrong-token POST is meant to fail
      if (m.type() === 'error' && !m.text().includes('401')) problems.push(m.text());
    });
    return page;
  }

  it('signs in with the token, and out again', async () => {
    const page = await newPage();
    await page.goto(`${d.base}/`);
    await page.waitForURL(/\/dashboard\/login$/);
    await page.fill('#token', 'not-the-token-at-all');
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#login-error:has-text("wrong token")');
    await page.fill('#token', TOKEN);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#live-status[data-live="open"]');
    expect(await page.textContent('#viewer')).toContain('token');
    await page.click('#logout');
    await page.waitForURL(/\/dashboard\/login$/);
    await page.goto(`${d.base}/`);
    await page.waitForURL(/\/dashboard\/login$/);
    await page.context().close();
  }, 30_000);

  it('shows a 3 MB result a page of 64 KB at a time', async () => {
    await d.worker();
    const r = await d.app.sendTask('blob.make', []);
    await r.get({ timeout: 10_000 });
    const page = await newPage();
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${TOKEN}` });
    await page.goto(`${d.base}/?task=${r.id}`);
    await page.waitForSelector('#detail-state[data-state="SUCCESS"]');
    await page.waitForSelector(`.page-of:has-text("characters 1–65536 of ${BIG.length + 2}")`);
    expect((await page.locator('pre.value-result').textContent())!.length).toBe(64 * 1024);
    await page.locator('#detail-body button:has-text("Next")').click();
    await page.waitForSelector('.page-of:has-text("characters 65537–131072 of")');
    expect(await page.locator('pre.value-result').textContent()).toBe('y'.repeat(64 * 1024));
    expect(await page.textContent('#detail-body')).toContain('3.0 MB');
    await page.context().close();
  }, 30_000);
});
