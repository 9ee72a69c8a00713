import { tmpdir } from 'node:os';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_VARIANTS, type FormVariant } from '../../app/variants.js';
import { startDemo, tempSqliteBroker, type RunningDemo } from '../fixtures/app/demo-env.js';
import { CHROMIUM, haveChromium, requireChromiumInCi } from '../support/chromium.js';

// End to end: the real app (start.ts → web + worker processes) driven by Debian's chromium.
const inCi = process.env.CI === 'true';
// Screenshots for the README are taken into docs/ only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean.
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : `${tmpdir()}/errand-screenshots-`;
const XSS_NAME = '<img src=x onerror=window.__xss=1>';

function expectedTransportRequest(variant: FormVariant): string {
  if (variant.transport === 'ws') return `ws ${variant.baseUrl}/ws/task_status/:id/`;
  if (variant.transport === 'sse') return `GET ${variant.baseUrl}/tasks/:id/events`;
  return `GET ${variant.baseUrl}/task_status/`;
}

if (!haveChromium && !inCi) {
  console.warn(`skipping the browser tests: ${CHROMIUM} is missing (apt-get install -y chromium); CI=true makes this a failure`);
}

// In CI a missing browser is a failure, never a silent skip.
requireChromiumInCi('the end-to-end tests');

describe.skipIf(!haveChromium)('reference app in a browser', () => {
  let broker: ReturnType<typeof tempSqliteBroker> | undefined;
  let demo: RunningDemo | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  const pageProblems: string[] = [];

  beforeAll(async () => {
    broker = tempSqliteBroker();
    demo = await startDemo({ ERRAND_BROKER: broker.url, DEMO_API_DELAY_MS: '300', DEMO_API_FAILURE_RATE: '0' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // Reduced motion turns off Bootstrap's progress-bar transition, so screenshots show the final width.
    context = await browser.newContext({ viewport: { width: 900, height: 700 }, reducedMotion: 'reduce' });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (demo) {
      // start.ts stops both children gracefully and exits 0.
      const code = await demo.stop();
      expect(code, demo.supervisor.output()).toBe(0);
    }
    broker?.cleanup();
  }, 30_000);

  async function open(path: string): Promise<Page> {
    const page = await context.newPage();
    // Any CSP violation or script error on our pages is a bug.
    page.on('console', (m) => {
      // A 400 from the validation case is expected; Chrome logs it as a failed load.
      if (m.type() === 'error' && !m.text().includes('status of 400')) pageProblems.push(`${path}: ${m.text()}`);
    });
    page.on('pageerror', (e) => pageProblems.push(`${path}: ${e.message}`));
    await page.goto(`${demo!.baseUrl}${path}`);
    return page;
  }

  async function submit(page: Page, email: string, username: string): Promise<void> {
    await page.fill('#email', email);
    await page.fill('#username', username);
    await page.click('button[type="submit"]');
  }

  async function outcomeText(page: Page): Promise<string> {
    await page.waitForFunction(
      () => {
        const button = document.querySelector<HTMLButtonElement>('button[type="submit"]')!;
        return !button.disabled && button.textContent === 'Submit' && document.querySelector('#messages')!.textContent !== '';
      },
      undefined,
      { timeout: 15_000 },
    );
    return (await page.textContent('#messages')) ?? '';
  }

  it('the index links every variant', async () => {
    const page = await open('/');
    for (const v of FORM_VARIANTS) expect(await page.locator(`a[href="${v.path}"]`).count()).toBe(1);
    await page.screenshot({ path: `${SCREENSHOTS}index.png` });
    await page.close();
  });

  describe.each(FORM_VARIANTS.map((v) => [v.path, v] as const))('%s', (path, variant) => {
    it('shows "Processing..." on a disabled button, then "job succeeded" and progress', async () => {
      const page = await open(path);
      // The client falls back ws → sse → poll on its own: check this page used its transport.
      const used = new Set<string>();
      page.on('websocket', (ws) => used.add(`ws ${new URL(ws.url()).pathname.replace(/[0-9a-f-]{36}/, ':id')}`));
      page.on('request', (r) => used.add(`${r.method()} ${new URL(r.url()).pathname.replace(/[0-9a-f-]{36}/, ':id')}`));
      await submit(page, 'ada@example.com', 'ada');
      await page.waitForFunction(() => {
        const button = document.querySelector<HTMLButtonElement>('button[type="submit"]')!;
        return button.disabled && button.textContent === 'Processing...';
      });
      expect(await outcomeText(page)).toBe('job succeeded');
      expect(await page.isVisible('#progress')).toBe(true);
      expect(await page.textContent('#progress-bar')).toBe('done');
      const transportRequests = [...used].filter((u) => /task_status|\/events$/.test(u));
      expect(transportRequests).toEqual([expectedTransportRequest(variant)]);
      await page.screenshot({ path: `${SCREENSHOTS}${variant.slug}.png` });
      await page.close();
    });

    it('shows the task’s error message when the provider fails', async () => {
      const page = await open(path);
      await submit(page, 'please-fail@example.com', 'bob');
      expect(await outcomeText(page)).toContain('random processing error while subscribing bob');
      expect(await page.getAttribute('#task-message', 'class')).toContain('alert-danger');
      await page.close();
    });

    it('shows markup in an error message as text, never running it', async () => {
      const page = await open(path);
      await submit(page, 'xss-fail@example.com', XSS_NAME);
      expect(await outcomeText(page)).toContain(XSS_NAME);
      expect(await page.locator('#messages img').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
      if (variant.slug === 'form') await page.screenshot({ path: `${SCREENSHOTS}form_error.png` });
      await page.close();
    });

    it('shows a validation error next to the field', async () => {
      const page = await open(path);
      await submit(page, 'not-an-email', 'ada');
      await page.waitForSelector('#email.is-invalid');
      expect(await page.isVisible('#email-feedback')).toBe(true);
      expect(await page.textContent('#email-feedback')).toBe('Enter a valid email address.');
      expect(await page.getAttribute('#username', 'class')).not.toContain('is-invalid');
      await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('button[type="submit"]')!.disabled);
      expect(await page.textContent('button[type="submit"]')).toBe('Submit');
      await page.close();
    });
  });

  it('logged no script errors or CSP violations', () => {
    expect(pageProblems).toEqual([]);
  });
});
