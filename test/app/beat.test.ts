import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEAT_TAG } from '../../app/tasks.js';
import { CHROMIUM, haveChromium, requireChromiumInCi } from '../support/chromium.js';
import { waitFor } from '../support/wait.js';
import { startDemoServer, type DemoServer } from './demo-server.js';

// /beat/: the reference app's schedule, run by the worker's beat loop, each tick once, shown live from its tag feed.
const EVERY_MS = 250;
let running: DemoServer;
let base: string;

beforeAll(async () => {
  running = await startDemoServer({
    env: { BEAT_EVERY_MS: String(EVERY_MS) },
    demo: { beatEveryMs: EVERY_MS },
    worker: { beat: true },
  });
  ({ base } = running);
}, 60_000);

afterAll(async () => running?.close());

const feed = async () =>
  (await (await fetch(`${base}/feeds/${encodeURIComponent(BEAT_TAG)}/`)).json()) as {
    entries: Array<{ task_id: string; state: string; result?: { ranAt: string } }>;
  };

describe('/beat/ over HTTP', () => {
  it('the schedule runs every tick once; its public feed lists the runs', async () => {
    await waitFor(async () => (await feed()).entries.filter((e) => e.state === 'SUCCESS').length >= 3, 10_000);
    const done = (await feed()).entries.filter((e) => e.state === 'SUCCESS');
    const ran = done.map((e) => Date.parse(e.result!.ranAt)).sort((a, b) => a - b);
    // one run per tick: consecutive runs about a period apart, never two in one period
    for (let i = 1; i < ran.length; i++) expect(ran[i]! - ran[i - 1]!).toBeGreaterThan(EVERY_MS / 2);
    const page = await fetch(`${base}/beat/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`data-tag="${BEAT_TAG}"`);
    // other tags stay private: only the beat feed is public
    expect((await fetch(`${base}/feeds/${encodeURIComponent('public:other')}/`)).status).toBe(403);
  });
});

requireChromiumInCi('the beat page test');

describe.skipIf(!haveChromium)('/beat/ in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);
  afterAll(async () => browser?.close());

  it('shows new ticks as they run, with no script or CSP error', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/beat/`);
    await page.locator('#ticks li[data-state="SUCCESS"]').nth(1).waitFor({ timeout: 10_000 });
    expect(await page.locator('#ticks li[data-state="SUCCESS"]').first().textContent()).toMatch(/ran at \d{4}-/);
    expect(problems).toEqual([]);
  });
});
