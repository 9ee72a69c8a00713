import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReactEnv, type ReactTestEnv } from './react-server.js';
import { CHROMIUM, haveChromium, requireChromiumInCi } from '../support/chromium.js';

// errand/react in Chromium: a tiny React page (react and react-dom from node_modules, bundled by esbuild)
// served with the errand routes, POSTing to /form/ and following the task over WebSocket.
const inCi = process.env.CI === 'true';
const ENTRY = fileURLToPath(new URL('./fixtures/page.ts', import.meta.url));

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>errand/react</title></head>
<body><div id="root"></div><script type="module" src="/page.js"></script></body></html>`;

if (!haveChromium && !inCi) {
  console.warn(
    `skipping the React browser test: ${CHROMIUM} is missing (apt-get install -y chromium); CI=true makes this a failure`,
  );
}

// In CI a missing browser is a failure, never a silent skip.
requireChromiumInCi('the React test');

async function bundlePage(): Promise<{ code: string; metafile: Metafile }> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, metafile: result.metafile };
}

describe.skipIf(!haveChromium)('errand/react in Chromium', () => {
  let env: ReactTestEnv;
  let browser: Browser | undefined;
  let inputs: string[];

  beforeAll(async () => {
    const { code, metafile } = await bundlePage();
    inputs = Object.keys(metafile.inputs);
    env = await startReactEnv({
      files: { '/form/': ['text/html; charset=utf-8', PAGE], '/page.js': ['text/javascript; charset=utf-8', code] },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await env?.close();
  });

  it('bundles only client code: the hooks, errand/client and React, no server module', () => {
    const ours = inputs.filter((path) => !path.includes('node_modules/'));
    expect(ours.length).toBeGreaterThan(0);
    for (const path of ours) expect(path, path).toMatch(/^(src\/(react|client)\/|test\/react\/fixtures\/page\.ts$)/);
    expect(inputs.some((path) => path.includes('node_modules/react-dom/'))).toBe(true);
  });

  it('shows Processing… while the task runs, then its result', async () => {
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname.replace(/[0-9a-f-]{36}/, ':id')));

    await page.goto(`${env.web.base}/form/`);
    await page.fill('#email', 'ada@example.com');
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => {
      const button = document.querySelector('button')!;
      return button.disabled && button.textContent === 'Processing…';
    });
    await page.waitForFunction(() => document.querySelector('#outcome')!.textContent !== '', undefined, { timeout: 15_000 });
    expect(await page.textContent('#outcome')).toBe('Subscribed ada@example.com');
    expect(await page.textContent('button')).toBe('Subscribe');
    expect(await page.isEnabled('button')).toBe(true);
    expect(await page.textContent('#progress')).toBe('step 3');
    expect(await page.textContent('#transport')).toBe('ws');
    expect(sockets).toEqual(['/ws/task_status/:id/']);
    expect(problems).toEqual([]);
    await page.close();
  });
});
