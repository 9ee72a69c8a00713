import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config.js';
import { createDemoApp, type DemoApp } from '../../app/tasks.js';
import { FORM_VARIANTS } from '../../app/variants.js';
import { buildWebServer } from '../../app/web.js';
import { startDemo, tempSqliteBroker, type RunningDemo } from '../fixtures/app/demo-env.js';
import { rawUpgrade } from '../fixtures/chaos-web/raw-ws.js';
import { CHROMIUM, haveChromium, requireChromiumInCi } from '../support/chromium.js';

// Security properties of the reference app, as tests: CSRF and Origin checks on every form post,
// Origin checks on every WebSocket route (a 403 before the handshake), task ids that cannot be
// guessed, and error text that the page shows as text. (test/app/http.test.ts and browser.test.ts
// check some of this per feature; the assertions here are the security suite's own.)

const EVIL = 'https://evil.example';
const DJANGO_FORMS = FORM_VARIANTS.filter((v) => v.flavour === 'django').map((v) => v.path);

let server: FastifyInstance;
let demo: DemoApp;
let host: string;
let origin: string;
let port: number;

beforeAll(async () => {
  // The web process alone, listening for real (the WebSocket checks need sockets), on an in-memory broker.
  const config = loadConfig({ ERRAND_BROKER: 'memory://', DEMO_API_DELAY_MS: '0' });
  demo = createDemoApp({ broker: 'memory://', demoApiUrl: config.demoApiUrl, logger: false });
  server = await buildWebServer({ config, demo });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
  host = `127.0.0.1:${port}`;
  origin = `http://${host}`;
});

afterAll(async () => {
  await server?.close();
  await demo?.app.close();
});

function csrfCookie(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'csrftoken');
  if (!cookie) throw new Error('no csrftoken cookie');
  return cookie.value;
}

const form = new URLSearchParams({ email: 'ada@example.com', username: 'ada' }).toString();

function postForm(path: string, headers: Record<string, string>) {
  return server.inject({
    method: 'POST',
    url: path,
    headers: { host, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: form,
  });
}

function postJson(headers: Record<string, string>, payload = JSON.stringify({ email: 'ada@example.com', username: 'ada' })) {
  return server.inject({
    method: 'POST',
    url: '/users/form/',
    headers: { host, 'content-type': 'application/json', ...headers },
    payload,
  });
}

/** A refusal: 403, JSON, and nothing that would let another site read it (no CORS grant). */
function expectRefused(res: LightMyRequestResponse, what: string): void {
  expect(res.statusCode, `${what}: ${res.body}`).toBe(403);
  expect(res.headers['content-type'], what).toMatch(/^application\/json/);
  expect(typeof res.json<{ error?: unknown }>().error, what).toBe('string');
  expect(res.headers['access-control-allow-origin'], what).toBeUndefined();
  expect(res.json<{ task_id?: unknown }>().task_id, what).toBeUndefined();
}

describe('CSRF: the Django-flavour form posts', () => {
  it.each(DJANGO_FORMS)('POST %s from another site, or without a matching token, is a 403', async (path) => {
    const token = csrfCookie(await server.inject({ method: 'GET', url: path, headers: { host } }));
    const other = csrfCookie(await server.inject({ method: 'GET', url: path, headers: { host } }));
    const cases: Record<string, Record<string, string>> = {
      'cross-site post, no token, foreign Origin': { origin: EVIL },
      'no token, no Origin': {},
      'cookie only (what a cross-site form can make a browser send)': { cookie: `csrftoken=${token}`, origin: EVIL },
      'cookie only, same Origin': { cookie: `csrftoken=${token}`, origin },
      'header only': { 'x-csrftoken': token, origin },
      'header and cookie from two different visits': { cookie: `csrftoken=${token}`, 'x-csrftoken': other, origin },
      'forged pair of a malformed token': { cookie: 'csrftoken=x', 'x-csrftoken': 'x', origin },
      'valid pair, foreign Origin': { cookie: `csrftoken=${token}`, 'x-csrftoken': token, origin: EVIL },
      'valid pair, look-alike Origin': { cookie: `csrftoken=${token}`, 'x-csrftoken': token, origin: `${origin}.evil.example` },
      'valid pair, another port': { cookie: `csrftoken=${token}`, 'x-csrftoken': token, origin: 'http://127.0.0.1:1' },
      'valid pair, opaque Origin "null"': { cookie: `csrftoken=${token}`, 'x-csrftoken': token, origin: 'null' },
      'valid pair, https instead of http': { cookie: `csrftoken=${token}`, 'x-csrftoken': token, origin: `https://${host}` },
    };
    for (const [what, headers] of Object.entries(cases)) expectRefused(await postForm(path, headers), what);
    // The control: the same post with the token pair from our own page goes through.
    const ok = await postForm(path, { cookie: `csrftoken=${token}`, 'x-csrftoken': token, origin });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<{ task_id: string }>().task_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the token cookie is SameSite=Strict and unguessable (32 random bytes)', async () => {
    const res = await server.inject({ method: 'GET', url: '/form/', headers: { host } });
    const cookie = res.cookies.find((c) => c.name === 'csrftoken')!;
    expect(cookie.sameSite).toBe('Strict');
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('Origin: the FastAPI-flavour JSON post', () => {
  it('POST /users/form/ is refused from any other origin, without Origin, or as a CORS-simple request', async () => {
    const cases: [string, Record<string, string>, string?][] = [
      ['foreign Origin', { origin: EVIL }],
      ['opaque Origin "null"', { origin: 'null' }],
      ['look-alike Origin', { origin: `${origin}.evil.example` }],
      ['another port', { origin: 'http://127.0.0.1:1' }],
      ['another scheme', { origin: `https://${host}` }],
      ['no Origin', {}],
      ['text/plain from another site (no preflight needed)', { origin: EVIL, 'content-type': 'text/plain' }],
      ['a form post from another site', { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' }, form],
      ['a same-origin form post (JSON only)', { origin, 'content-type': 'application/x-www-form-urlencoded' }, form],
    ];
    for (const [what, headers, payload] of cases) expectRefused(await postJson(headers, payload), what);
    const ok = await postJson({ origin });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('a CORS preflight from another site is never granted', async () => {
    for (const path of ['/users/form/', '/form/', '/task_status/']) {
      const res = await server.inject({
        method: 'OPTIONS',
        url: path,
        headers: {
          host,
          origin: EVIL,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(res.statusCode, path).toBeGreaterThanOrEqual(400);
      expect(res.headers['access-control-allow-origin'], path).toBeUndefined();
      expect(res.headers['access-control-allow-methods'], path).toBeUndefined();
    }
  });
});

describe('Origin: every WebSocket route', () => {
  it('a page from another origin gets a 403 JSON refusal before the handshake, whatever the task id', async () => {
    const taskId = (await postJson({ origin })).json<{ task_id: string }>().task_id;
    const foreign = [
      EVIL,
      'null',
      `${origin}.evil.example`,
      'http://127.0.0.1:1',
      `http://localhost:${port}`,
      'http://[::1]',
      'not a url',
      'file://',
    ];
    let checked = 0;
    for (const prefix of ['', '/users']) {
      for (const id of [taskId, randomUUID(), 'not-a-uuid']) {
        for (const slash of ['/', '']) {
          const path = `${prefix}/ws/task_status/${id}${slash}`;
          for (const bad of foreign) {
            const { socket, head, rest } = await rawUpgrade(port, path, { headers: { origin: bad } });
            const body = await readBody(socket, rest, Number(head.headers['content-length']?.[0] ?? 0));
            expect(head.status, `${path} from ${bad}`).toBe(403);
            expect(head.headers['sec-websocket-accept'], path).toBeUndefined();
            expect(head.headers['content-type']?.[0]).toMatch(/^application\/json/);
            expect(JSON.parse(body)).toMatchObject({ error: 'forbidden' });
            checked++;
          }
          // The control: our own page's Origin (and a client without one) gets the socket.
          for (const good of [origin, origin.replace('http:', 'HTTP:'), undefined]) {
            const { socket, head } = await rawUpgrade(port, path, { headers: good === undefined ? {} : { origin: good } });
            socket.destroy();
            expect(head.status, `${path} from ${good}`).toBe(101);
          }
        }
      }
    }
    expect(checked).toBe(2 * 3 * 2 * foreign.length);
  });
});

function readBody(socket: Socket, rest: Buffer, length: number): Promise<string> {
  return new Promise((resolve) => {
    let bytes = rest;
    const done = (): void => {
      socket.destroy();
      resolve(bytes.subarray(0, length).toString('utf8'));
    };
    if (bytes.length >= length) return done();
    socket.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (bytes.length >= length) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.resume();
  });
}

describe('task ids', () => {
  const COUNT = 2000;

  it(`are RFC 4122 version-4 UUIDs with at least 122 random bits (${COUNT} enqueued through the app)`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const res = await postJson({ origin }, JSON.stringify({ email: `u${i}@example.com`, username: `u${i}` }));
      expect(res.statusCode).toBe(200);
      ids.push(res.json<{ task_id: string }>().task_id);
    }
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(COUNT);

    const bits = ids.map((id) => BigInt(`0x${id.replaceAll('-', '')}`));
    // Bit by bit (bit 127 first): the 6 version/variant bits are fixed, every other bit is a fair coin.
    const FIXED = new Map([
      [48, 0n],
      [49, 1n],
      [50, 0n],
      [51, 0n], // version 4 = 0100
      [64, 1n],
      [65, 0n], // variant 10xx
    ]);
    let estimatedBits = 0;
    const unfair: string[] = [];
    for (let i = 0; i < 128; i++) {
      const shift = BigInt(127 - i);
      const ones = bits.filter((b) => ((b >> shift) & 1n) === 1n).length;
      const p = ones / COUNT;
      if (FIXED.has(i)) {
        expect(ones, `bit ${i}`).toBe(FIXED.get(i) === 1n ? COUNT : 0);
        continue;
      }
      // 2000 fair coins: the share of ones is 0.5 ± 0.011 (1 sigma); 0.44..0.56 is over 5 sigma.
      if (p < 0.44 || p > 0.56) unfair.push(`bit ${i}: ${p}`);
      estimatedBits += p === 0 || p === 1 ? 0 : -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
    }
    expect(unfair).toEqual([]);
    expect(estimatedBits).toBeGreaterThanOrEqual(121.5); // 122 random bits, less a little sampling bias

    // Hex digit by hex digit: Shannon entropy of each of the 32 positions across the sample.
    const perPosition = Array.from({ length: 32 }, (_, position) => {
      const counts = new Map<string, number>();
      for (const id of ids) {
        const digit = id.replaceAll('-', '')[position]!;
        counts.set(digit, (counts.get(digit) ?? 0) + 1);
      }
      let h = 0;
      for (const n of counts.values()) h -= (n / COUNT) * Math.log2(n / COUNT);
      return h;
    });
    expect(perPosition[12]).toBe(0); // the version digit, always 4
    expect(perPosition[16]).toBeGreaterThan(1.95); // the variant digit: 8, 9, a or b (2 bits)
    for (const [position, h] of perPosition.entries()) {
      if (position !== 12 && position !== 16) expect(h, `hex digit ${position}`).toBeGreaterThan(3.95);
    }
    expect(perPosition.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(121.5);

    // Not a counter or a clock: consecutive ids differ in about half of their 122 random bits.
    const randomMask = ~((0xfn << 76n) | (0x3n << 62n)) & ((1n << 128n) - 1n);
    let distance = 0;
    for (let i = 1; i < COUNT; i++) distance += popcount((bits[i]! ^ bits[i - 1]!) & randomMask);
    const mean = distance / (COUNT - 1);
    expect(mean).toBeGreaterThan(58);
    expect(mean).toBeLessThan(64);
  }, 60_000);
});

function popcount(value: bigint): number {
  let count = 0;
  for (let v = value; v > 0n; v >>= 1n) count += Number(v & 1n);
  return count;
}

describe('reflected input', () => {
  it('the 404 that names the requested URL is JSON with nosniff, never HTML', async () => {
    const res = await server.inject({ method: 'GET', url: '/<script>alert(1)</script>', headers: { host } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  });
});

// ---------------------------------------------------------------------------------------------
// In a browser: the real app (web + worker processes) driven by Debian's chromium.

/** The email carries "fail" (the provider always fails it); the provider's error echoes the username. */
const MARKUP = 'fail<img src=x onerror=alert(1)>';

requireChromiumInCi('the security tests');

describe.skipIf(!haveChromium)('markup in a task error message, in the browser', () => {
  let broker: ReturnType<typeof tempSqliteBroker> | undefined;
  let running: RunningDemo | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    broker = tempSqliteBroker();
    running = await startDemo({ ERRAND_BROKER: broker.url, DEMO_API_DELAY_MS: '100', DEMO_API_FAILURE_RATE: '0' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (running) expect(await running.stop(), running.supervisor.output()).toBe(0);
    broker?.cleanup();
  }, 30_000);

  async function open(path: string): Promise<{ page: Page; dialogs: string[]; problems: string[] }> {
    const page = await browser!.newPage();
    const dialogs: string[] = [];
    const problems: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().includes('status of 400')) problems.push(message.text());
    });
    await page.goto(`${running!.baseUrl}${path}`);
    return { page, dialogs, problems };
  }

  async function submit(page: Page, email: string, username: string): Promise<void> {
    await page.fill('#email', email);
    await page.fill('#username', username);
    await page.click('button[type="submit"]');
  }

  it.each(FORM_VARIANTS.map((v) => [v.path, v.transport] as const))(
    '%s (%s): the failure message shows the markup as text; no element is injected, nothing runs',
    async (path) => {
      const { page, dialogs, problems } = await open(path);
      await submit(page, 'please-fail@example.com', MARKUP);
      const message = page.locator('#task-message');
      await message.waitFor({ state: 'visible', timeout: 15_000 });
      await page.waitForFunction(() => document.querySelector('#task-message')?.textContent?.includes('subscribing'), undefined, {
        timeout: 15_000,
      });
      expect(await message.textContent()).toContain(`random processing error while subscribing ${MARKUP}`);
      expect(await page.getByText(MARKUP, { exact: false }).isVisible()).toBe(true);
      expect(await page.locator('img').count()).toBe(0); // the page has no images of its own
      expect(await page.locator('#messages *').count()).toBe(1); // the alert itself, no children
      expect(dialogs).toEqual([]);
      expect(problems).toEqual([]);
      await page.close();
    },
    30_000,
  );

  it('markup in the email field is refused by validation and nothing is injected', async () => {
    const { page, dialogs, problems } = await open('/form/');
    await submit(page, `${MARKUP}@example.com`, 'ada');
    await page.waitForSelector('#email.is-invalid', { timeout: 15_000 });
    expect(await page.textContent('#email-feedback')).toBe('Enter a valid email address.');
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 30_000);
});
