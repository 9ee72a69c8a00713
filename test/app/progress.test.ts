import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRESS_ITEMS } from '../../app/progress-task.js';
import type { DemoApp } from '../../app/tasks.js';
import { CHROMIUM, haveChromium, requireChromiumInCi } from '../support/chromium.js';
import { startDemoServer, type DemoServer } from './demo-server.js';

// /progress/: a 200-item task whose progress the page follows live, over HTTP and in Debian's chromium.

let running: DemoServer;
let demo: DemoApp;
let base: string;

beforeAll(async () => {
  running = await startDemoServer({ demo: { progressItemMs: 5 } });
  ({ demo, base } = running);
}, 60_000);

afterAll(async () => running?.close());

async function csrf(): Promise<string> {
  const page = await fetch(`${base}/progress/`);
  expect(page.status).toBe(200);
  const token = /csrftoken=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1];
  if (!token) throw new Error('no csrftoken cookie');
  return token;
}

describe('/progress/ over HTTP', () => {
  it('refuses a start without the CSRF token, and enqueues nothing', async () => {
    const res = await fetch(`${base}/progress/`, { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'csrf' });
  });

  it('starts the task (202 task_id) and it reports every item before SUCCESS', async () => {
    const token = await csrf();
    const res = await fetch(`${base}/progress/`, {
      method: 'POST',
      headers: { cookie: `csrftoken=${token}`, 'x-csrftoken': token, origin: base },
    });
    expect(res.status).toBe(202);
    const { task_id: id } = (await res.json()) as { task_id: string };
    const seen: number[] = [];
    for await (const info of demo.app.watch(id)) {
      if (info.progress) seen.push(info.progress.current);
      if (info.state === 'SUCCESS') {
        expect(info.result).toMatchObject({ processed: PROGRESS_ITEMS });
        break;
      }
    }
    expect(seen.at(-1)).toBe(PROGRESS_ITEMS);
    expect(seen.length).toBeGreaterThan(1); // progress arrived along the way, not only at the end
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });
});

requireChromiumInCi('the progress page test');

describe.skipIf(!haveChromium)('/progress/ in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);
  afterAll(async () => browser?.close());

  it('shows the bar moving through the items, then the result, with no script or CSP error', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/progress/`);
    // Record every value the bar shows, from inside the page, as it changes.
    await page.evaluate(() => {
      const bar = document.querySelector('#progress')!;
      const values: number[] = [];
      (window as unknown as { seen: number[] }).seen = values;
      new MutationObserver(() => values.push(Number(bar.getAttribute('aria-valuenow')))).observe(bar, { attributes: true });
    });
    await page.click('#progress-form button[type="submit"]');
    expect(await page.locator('#progress-form button').textContent()).toBe('Processing...');
    await page.locator('#task-message').waitFor({ timeout: 20_000 });
    expect(await page.locator('#task-message').textContent()).toMatch(/^Processed 200 items \(checksum \d+\)\.$/);
    expect(await page.locator('#progress-bar').textContent()).toBe('done');
    const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    expect(seen.some((v) => v > 0 && v < 100)).toBe(true);
    expect(seen.at(-1)).toBe(100);
    expect(problems).toEqual([]);
  });
});
