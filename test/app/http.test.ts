import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config.js';
import { CONTENT_SECURITY_POLICY } from '../../app/security-headers.js';
import { createDemoApp, type DemoApp } from '../../app/tasks.js';
import { buildWebServer } from '../../app/web.js';

// The web process alone, on an in-memory broker: nothing runs the tasks here.
const HOST = '127.0.0.1:8010';
const ORIGIN = `http://${HOST}`;
let server: FastifyInstance;
let demo: DemoApp;

beforeAll(async () => {
  const config = loadConfig({ ERRAND_BROKER: 'memory://', DEMO_API_DELAY_MS: '0' });
  demo = createDemoApp({ broker: 'memory://', demoApiUrl: config.demoApiUrl, logger: false });
  server = await buildWebServer({ config, demo });
});

afterAll(async () => {
  await server.close();
  await demo.app.close();
});

function csrfCookie(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'csrftoken');
  if (!cookie) throw new Error('no csrftoken cookie');
  return cookie.value;
}

async function freshToken(path = '/form/'): Promise<string> {
  return csrfCookie(await server.inject({ method: 'GET', url: path, headers: { host: HOST } }));
}

function postDjango(path: string, body: string, headers: Record<string, string>) {
  return server.inject({
    method: 'POST',
    url: path,
    headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: body,
  });
}

function postJson(payload: string, headers: Record<string, string> = {}) {
  return server.inject({
    method: 'POST',
    url: '/users/form/',
    headers: { host: HOST, origin: ORIGIN, 'content-type': 'application/json', ...headers },
    payload,
  });
}

const goodForm = new URLSearchParams({ email: 'ada@example.com', username: 'ada' }).toString();

describe('pages', () => {
  it('serves the index with a link to every variant', async () => {
    const res = await server.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    for (const path of ['/form/', '/form_ws/', '/form_sse/', '/users/form/']) expect(res.body).toContain(`href="${path}"`);
  });

  it.each(['/form/', '/form_ws/', '/form_sse/'])(
    'GET %s renders the form and sets an unguessable csrftoken cookie',
    async (path) => {
      const res = await server.inject({ method: 'GET', url: path });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('id="subscribe-form"');
      const cookie = res.cookies.find((c) => c.name === 'csrftoken')!;
      expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(cookie.sameSite).toBe('Strict');
      expect(cookie.path).toBe('/');
      const other = await server.inject({ method: 'GET', url: path });
      expect(csrfCookie(other)).not.toBe(cookie.value);
    },
  );

  it('keeps a visitor’s existing token', async () => {
    const token = await freshToken();
    const res = await server.inject({ method: 'GET', url: '/form_ws/', cookies: { csrftoken: token } });
    expect(csrfCookie(res)).toBe(token);
  });

  it('sends the security headers, with no inline script allowed', async () => {
    for (const url of [
      '/',
      '/form/',
      '/users/form/',
      '/static/errand-client.js',
      '/static/bootstrap/css/bootstrap.min.css',
      '/nope',
    ]) {
      const res = await server.inject({ method: 'GET', url });
      expect(res.headers['content-security-policy'], url).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    const page = await server.inject({ method: 'GET', url: '/form/' });
    expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(page.body).not.toMatch(/\sstyle=|\son[a-z]+=/);
  });

  it('serves Bootstrap and the bundled page script from this server', async () => {
    const css = await server.inject({ method: 'GET', url: '/static/bootstrap/css/bootstrap.min.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const js = await server.inject({ method: 'GET', url: '/static/errand-client.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body).toContain('subscribe-form');
    expect(js.body).not.toContain('innerHTML');
  });
});

describe('Django flavour: POST /form/ with a CSRF token', () => {
  it.each(['/form/', '/form_ws/', '/form_sse/'])('%s enqueues the task when header and cookie match', async (path) => {
    const token = await freshToken();
    const res = await postDjango(path, goodForm, { cookie: `csrftoken=${token}`, 'x-csrftoken': token, origin: ORIGIN });
    expect(res.statusCode).toBe(200);
    const { task_id } = res.json<{ task_id: string }>();
    const info = await demo.app.result(task_id).info();
    expect(info).toMatchObject({ name: 'newsletter.subscribe', state: 'PENDING' });
  });

  it('refuses a missing, mismatched or cookie-less token with 403 JSON', async () => {
    const token = await freshToken();
    const other = await freshToken();
    const cases: Record<string, string>[] = [
      { cookie: `csrftoken=${token}` },
      { cookie: `csrftoken=${token}`, 'x-csrftoken': other },
      { 'x-csrftoken': token },
      { cookie: 'csrftoken=short', 'x-csrftoken': 'short' },
    ];
    for (const headers of cases) {
      const res = await postDjango('/form/', goodForm, headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json()).toMatchObject({ error: 'csrf' });
    }
  });

  it('refuses a valid token sent from another origin', async () => {
    const token = await freshToken();
    const res = await postDjango('/form/', goodForm, {
      cookie: `csrftoken=${token}`,
      'x-csrftoken': token,
      origin: 'http://evil.example',
    });
    expect(res.statusCode).toBe(403);
  });

  it('answers 400 naming each bad field', async () => {
    const token = await freshToken();
    const auth = { cookie: `csrftoken=${token}`, 'x-csrftoken': token };
    const both = await postDjango('/form/', 'email=not-an-email&username=', auth);
    expect(both.statusCode).toBe(400);
    expect(both.json()).toEqual({
      error: 'validation',
      fields: { email: expect.any(String), username: expect.any(String) },
    });
    const longName = await postDjango(
      '/form/',
      new URLSearchParams({ email: 'a@b.co', username: 'x'.repeat(101) }).toString(),
      auth,
    );
    expect(longName.json()).toEqual({ error: 'validation', fields: { username: expect.stringMatching(/100/) } });
    const longEmail = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.com`;
    expect(longEmail.length).toBeGreaterThan(254);
    const res = await postDjango('/form/', new URLSearchParams({ email: longEmail, username: 'ok' }).toString(), auth);
    expect(res.json()).toEqual({ error: 'validation', fields: { email: expect.any(String) } });
    const missing = await postDjango('/form/', '', auth);
    expect(Object.keys(missing.json<{ fields: object }>().fields).sort()).toEqual(['email', 'username']);
  });

  it('answers 413 JSON to an oversized body', async () => {
    const token = await freshToken();
    const body = new URLSearchParams({ email: 'a@b.co', username: 'x'.repeat(20_000) }).toString();
    const res = await postDjango('/form/', body, { cookie: `csrftoken=${token}`, 'x-csrftoken': token });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'payload_too_large' });
  });
});

describe('FastAPI flavour: POST /users/form/ with JSON', () => {
  it('renders its page', async () => {
    const res = await server.inject({ method: 'GET', url: '/users/form/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-base-url="/users"');
  });

  it('enqueues from a same-origin JSON request without any token', async () => {
    const res = await postJson(JSON.stringify({ email: 'grace@example.com', username: 'grace' }));
    expect(res.statusCode).toBe(200);
    const { task_id } = res.json<{ task_id: string }>();
    expect(await demo.app.result(task_id).state()).toBe('PENDING');
  });

  it('refuses other content types with 403, whatever the body', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await postJson('email=a%40b.co&username=a', { 'content-type': type });
      expect(res.statusCode, type).toBe(403);
      expect(res.json()).toMatchObject({ error: 'forbidden' });
    }
  });

  it('refuses a cross-origin or Origin-less request with 403', async () => {
    const body = JSON.stringify({ email: 'a@b.co', username: 'a' });
    expect((await postJson(body, { origin: 'http://evil.example' })).statusCode).toBe(403);
    expect((await postJson(body, { origin: 'http://127.0.0.1:9999' })).statusCode).toBe(403);
    expect((await postJson(body, { origin: 'null' })).statusCode).toBe(403);
    const noOrigin = await server.inject({
      method: 'POST',
      url: '/users/form/',
      headers: { host: HOST, 'content-type': 'application/json' },
      payload: body,
    });
    expect(noOrigin.statusCode).toBe(403);
  });

  it('answers 400 naming bad fields, and 400 to malformed JSON', async () => {
    const res = await postJson(JSON.stringify({ email: 'nope', username: 42 }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'validation', fields: { email: expect.any(String), username: expect.any(String) } });
    const broken = await postJson('{"email":');
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ error: 'bad_request' });
  });

  it('answers 413 JSON to an oversized body', async () => {
    const res = await postJson(JSON.stringify({ email: 'a@b.co', username: 'x'.repeat(20_000) }));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'payload_too_large' });
  });
});

describe('status endpoints (errandWeb at "" and "/users")', () => {
  it.each(['', '/users'])('%s/task_status/ reports a queued task and 404 for an unknown id', async (prefix) => {
    const { id } = await demo.subscribe.delay('ada@example.com', 'ada');
    const res = await server.inject({ method: 'GET', url: `${prefix}/task_status/?task_id=${id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ state: 'PENDING', version: expect.any(Number) });
    const unknown = await server.inject({ method: 'GET', url: `${prefix}/task_status/?task_id=${randomUUID()}` });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('the operations dashboard at /errand/dashboard/', () => {
  it('answers a loopback visitor without credentials, and its API reads the demo’s broker', async () => {
    const index = await server.inject({ method: 'GET', url: '/' });
    expect(index.body).toContain('href="/errand/dashboard/"');
    const page = await server.inject({ method: 'GET', url: '/errand/dashboard/', headers: { host: HOST } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const overview = await server.inject({ method: 'GET', url: '/errand/dashboard/api/overview', headers: { host: HOST } });
    expect(overview.statusCode).toBe(200);
    expect(JSON.parse(overview.body)).toMatchObject({ queues: expect.any(Array), states: expect.any(Object) });
    const forwarded = await server.inject({
      method: 'GET',
      url: '/errand/dashboard/api/overview',
      headers: { host: HOST, 'x-forwarded-for': '203.0.113.9' },
    });
    expect(forwarded.statusCode).toBe(403);
  });

  it('with DASHBOARD_TOKEN, asks for it', async () => {
    const token = 'a-dashboard-token-of-some-length';
    const config = loadConfig({ ERRAND_BROKER: 'memory://', DASHBOARD_TOKEN: token });
    const own = await buildWebServer({ config, demo });
    try {
      const anonymous = await own.inject({ method: 'GET', url: '/errand/dashboard/api/overview', headers: { host: HOST } });
      expect(anonymous.statusCode).toBe(401);
      const signed = await own.inject({
        method: 'GET',
        url: '/errand/dashboard/api/overview',
        headers: { host: HOST, authorization: `Bearer ${token}` },
      });
      expect(signed.statusCode).toBe(200);
      expect(() => loadConfig({ DASHBOARD_TOKEN: 'short' })).toThrow(/DASHBOARD_TOKEN: must be at least 16 characters/);
    } finally {
      await own.close();
    }
  });
});
