import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Errand } from '../../src/index.js';
import { CHROMIUM, haveChromium, requireChromiumInCi } from '../support/chromium.js';
import { gate, startDashboard, type Dashboard } from './support.js';

const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : `${tmpdir()}/errand-dashboard-screenshots-`;
const XSS = '<img src=x onerror=window.__xss=1>';
const BROWSER_DIR = fileURLToPath(new URL('../../src/web/dashboard/browser/', import.meta.url));

it('the browser code never uses innerHTML (all text through textContent / createElement)', () => {
  for (const file of readdirSync(BROWSER_DIR)) {
    const code = readFileSync(`${BROWSER_DIR}${file}`, 'utf8');
    expect(code, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  }
});

requireChromiumInCi('the dashboard tests');

const sqliteFile = join(tmpdir(), `errand-dashboard-browser-${process.pid}.db`);
afterAll(() => ['', '-wal', '-shm'].forEach((suffix) => rmSync(sqliteFile + suffix, { force: true })));

describe.skipIf(!haveChromium).each(['memory://', `sqlite://${sqliteFile}`])('the dashboard in a browser on %s', (broker) => {
  let d: Dashboard;
  let browser: Browser;
  const problems: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate>>();
  let failNext = true;

  function tasks(app: Errand): void {
    app.task('shop.checkout', async (ctx, order: string) => {
      ctx.progress(1, 2);
      const g = gate();
      gates.set(order, g);
      await g.promise;
      return { order, paid: true };
    });
    app.task('mail.send', (_ctx, to: string) => {
      if (failNext) throw new TypeError(`mailbox ${to} is full`);
      return 'sent';
    });
    app.task('report.render', (_ctx, title: string) => ({ title }));
  }

  beforeAll(async () => {
    d = await startDashboard(
      {
        basicAuth: [
          { username: 'ada', password: 'pw' },
          { username: 'guest', password: 'pw', access: 'read' },
        ],
      },
      broker,
      tasks,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    for (const g of gates.values()) g.open();
    await browser?.close();
    await d?.close();
    // any CSP violation or script error is a bug
    expect(problems).toEqual([]);
  }, 30_000);

  async function open(user: 'ada' | 'guest', query = ''): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 1000 },
      httpCredentials: { username: user, password: 'pw' },
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${user}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${user}: ${e.message}`));
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${d.base}/${query}`);
    await page.waitForSelector('#live-status[data-live="open"]');
    return page;
  }

  // the screenshots come from the memory run
  const shot = (page: Page, name: string) =>
    broker === 'memory://' ? page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true }) : undefined;
  const row = (page: Page, id: string) => page.locator(`#tasks tr[data-task="${id}"]`);
  const waitState = (page: Page, id: string, state: string) =>
    page.waitForSelector(`#tasks tr[data-task="${id}"][data-state="${state}"]`);

  it('follows a task through its states live, with its detail and attempts', async () => {
    const page = await open('ada');
    const r = await d.app.sendTask('shop.checkout', [XSS]);
    await waitState(page, r.id, 'PENDING');
    await row(page, r.id).locator('a.task-link').click();
    await page.waitForSelector('#detail-state[data-state="PENDING"]');
    await d.worker();
    await waitState(page, r.id, 'PROGRESS');
    await page.waitForSelector('#workers td:has-text("shop.checkout #1")');
    await page.waitForSelector('#detail-state[data-state="PROGRESS"]');
    gates.get(XSS)!.open();
    await waitState(page, r.id, 'SUCCESS');
    await page.waitForSelector('#detail-state[data-state="SUCCESS"]');
    expect(await page.locator('#detail-body pre.value-args').textContent()).toContain(XSS);
    expect(await page.locator('#detail-body pre.value-result').textContent()).toContain('"paid": true');
    expect(await page.locator('#attempts tr').count()).toBe(2);
    expect(await page.locator('#detail-body img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>('#throughput-chart')!.dataset.points) >= 1);
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>('#depth-chart')!.dataset.queues) >= 1);
    await shot(page, 'dashboard');
    await page.context().close();
  }, 30_000);

  it('filters the list, retries a failed task and revokes a pending one', async () => {
    const failed = await d.app.sendTask('mail.send', ['ada@example.com']);
    const pending = await d.app.sendTask('report.render', ['q3'], { queue: 'reports' });
    await d.app.sendTask('report.render', ['q4'], { queue: 'reports' });
    const page = await open('ada', '?name=mail.send');
    await waitState(page, failed.id, 'FAILURE');
    expect(
      await page.locator('#tasks tr[data-task]').evaluateAll((rows) => rows.every((r) => r.textContent!.includes('mail.send'))),
    ).toBe(true);
    failNext = false;
    await row(page, failed.id).locator('button.retry').click();
    await waitState(page, failed.id, 'SUCCESS');
    await page.waitForSelector('#actions td:has-text("retry")');
    await page.selectOption('#filter-state', 'PENDING');
    await page.fill('#filter-name', '');
    await page.fill('#filter-queue', 'reports');
    await page.click('#task-filter button[type="submit"]');
    await waitState(page, pending.id, 'PENDING');
    expect(await page.locator('#tasks tr[data-task]').count()).toBe(2);
    expect(page.url()).toContain('queue=reports');
    await row(page, pending.id).locator('button.revoke').click();
    // PENDING filter: the revoked task leaves the list; unfiltered it shows REVOKED
    await page.waitForSelector(`#tasks tr[data-task="${pending.id}"]`, { state: 'detached' });
    await page.selectOption('#filter-state', '');
    await page.click('#task-filter button[type="submit"]');
    await waitState(page, pending.id, 'REVOKED');
    expect(await page.locator('#actions tr:has-text("ada")').count()).toBeGreaterThanOrEqual(2);
    await row(page, pending.id).locator('a.task-link').click();
    await page.waitForSelector('#detail-state[data-state="REVOKED"]');
    await shot(page, 'dashboard-actions');
    await page.context().close();
  }, 30_000);

  it('shows a read-only user no action buttons', async () => {
    const waiting = await d.app.sendTask('report.render', [], { queue: 'reports' });
    const page = await open('guest');
    await waitState(page, waiting.id, 'PENDING');
    await page.waitForSelector('#queues td:has-text("reports")');
    expect(
      await page
        .locator(
          'main button:has-text("Retry"), main button:has-text("Revoke"), main button:has-text("Purge"), main button:has-text("Pause")',
        )
        .count(),
    ).toBe(0);
    expect(await page.locator('#retry-failed, #retry-all-dead, #drop-all-dead').count()).toBe(0);
    expect(await page.textContent('#viewer')).toContain('read only');
    await shot(page, 'dashboard-readonly');
    await page.context().close();
  }, 30_000);

  it('closes the live stream while the tab is hidden and catches up when it is visible again', async () => {
    const page = await open('ada');
    const setHidden = (hidden: boolean) =>
      page.evaluate((h) => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    let liveRequests = 0;
    page.on('request', (request) => void (request.url().includes('/api/live') && liveRequests++));
    const aborted = page.waitForEvent('requestfailed', (request) => request.url().includes('/api/live'));
    await setHidden(true);
    await page.waitForSelector('#live-status[data-live="paused"]');
    await aborted; // the stream was closed, not left running
    const r = await d.app.sendTask('report.render', ['hidden'], { queue: 'reports' });
    expect(await row(page, r.id).count()).toBe(0);
    expect(liveRequests).toBe(0);
    await setHidden(false);
    await page.waitForSelector('#live-status[data-live="open"]');
    await waitState(page, r.id, 'PENDING');
    await page.context().close();
  }, 30_000);
});
