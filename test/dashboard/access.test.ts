import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createApp } from '../../src/index.js';
import { webRequest } from '../../src/web/core/web-request.js';
import { decideAccess, isLoopbackAddress, serveDashboard } from '../../src/web/dashboard/index.js';
import { checkDashboardOptions, type DashboardOptions } from '../../src/web/dashboard/options.js';
import { postAction, session, startDashboard, type Dashboard } from './support.js';

const TOKEN = 'a-token-of-at-least-16-chars';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const request = (remoteAddress: string | undefined, headers: Record<string, string> = {}) =>
  webRequest({
    method: 'GET',
    url: '/dashboard/api/overview',
    headers: { host: '127.0.0.1:5555', ...headers },
    native: undefined,
    remoteAddress,
  });
const decide = (options: DashboardOptions, req: ReturnType<typeof request>) =>
  decideAccess(checkDashboardOptions(options), req, () => undefined);

describe('the access decision', () => {
  it('without credentials options: loopback clients only, and none a proxy forwarded', async () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(await decide({}, request(address)), address).toEqual({ ok: true, viewer: { access: 'write', user: 'local' } });
    }
    for (const address of ['10.0.0.5', '192.168.1.2', '::ffff:10.1.2.3', 'fe80::1', '0.0.0.0', undefined]) {
      const decision = await decide({}, request(address));
      expect(decision.ok, String(address)).toBe(false);
      if (!decision.ok) {
        expect(decision.refusal.status).toBe(403);
        expect(decision.refusal.body.message).toMatch(/credentials/);
      }
    }
    expect((await decide({}, request('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }))).ok).toBe(false);
    expect((await decide({}, request('127.0.0.1', { forwarded: 'for=203.0.113.9' }))).ok).toBe(false);
    expect(isLoopbackAddress('127.0.0.1.evil')).toBe(false);
    // DNS rebinding: a loopback peer, but the page belongs to another site
    for (const host of ['localhost:8080', '[::1]:5555', '127.0.0.1'])
      expect((await decide({}, request('127.0.0.1', { host }))).ok, host).toBe(true);
    for (const host of ['evil.example:5555', 'evil.example', '', '127.0.0.1.evil.example']) {
      expect((await decide({}, request('127.0.0.1', { host }))).ok, host).toBe(false);
    }
  });

  it('token: Bearer header, anyone; a wrong one is 401', async () => {
    expect(await decide({ token: TOKEN }, request('10.0.0.5', { authorization: `Bearer ${TOKEN}` }))).toMatchObject({
      ok: true,
      viewer: { access: 'write' },
    });
    expect(await decide({ token: TOKEN }, request('10.0.0.5', { authorization: 'Bearer nope' }))).toMatchObject({
      ok: false,
      refusal: { status: 401 },
    });
    // with credentials configured, loopback is no pass
    expect(await decide({ token: TOKEN }, request('127.0.0.1'))).toMatchObject({ ok: false, refusal: { status: 401 } });
  });

  it('basicAuth: users with their access; a challenge when none or wrong credentials are given', async () => {
    const options: DashboardOptions = {
      basicAuth: [
        { username: 'ada', password: 'pw1' },
        { username: 'bob', password: 'pw2', access: 'read' },
      ],
    };
    expect(await decide(options, request('10.0.0.5', { authorization: basic('ada', 'pw1') }))).toEqual({
      ok: true,
      viewer: { access: 'write', user: 'ada' },
    });
    expect(await decide(options, request('10.0.0.5', { authorization: basic('bob', 'pw2') }))).toEqual({
      ok: true,
      viewer: { access: 'read', user: 'bob' },
    });
    const wrong = await decide(options, request('10.0.0.5', { authorization: basic('ada', 'pw2') }));
    expect(wrong).toMatchObject({
      ok: false,
      refusal: { status: 401, headers: { 'www-authenticate': expect.stringMatching(/^Basic /) } },
    });
    expect(await decide(options, request('10.0.0.5'))).toMatchObject({ ok: false, refusal: { status: 401 } });
  });

  it('authorize: read, write, a named user, false, and thrown statuses', async () => {
    const authorize: DashboardOptions['authorize'] = (req) => {
      const who = req.headers['x-user'];
      if (who === 'boom') throw Object.assign(new Error('go away'), { status: 418 });
      if (who === 'ada') return { access: 'write', user: 'ada' };
      return who === 'reader' ? 'read' : false;
    };
    expect(await decide({ authorize }, request('10.0.0.5', { 'x-user': 'ada' }))).toEqual({
      ok: true,
      viewer: { access: 'write', user: 'ada' },
    });
    expect(await decide({ authorize }, request('10.0.0.5', { 'x-user': 'reader' }))).toMatchObject({
      ok: true,
      viewer: { access: 'read' },
    });
    expect(await decide({ authorize }, request('127.0.0.1'))).toMatchObject({ ok: false, refusal: { status: 403 } });
    expect(await decide({ authorize }, request('10.0.0.5', { 'x-user': 'boom' }))).toMatchObject({
      ok: false,
      refusal: { status: 418, body: { message: 'go away' } },
    });
  });

  it('bad options are a ConfigError at mount time', () => {
    expect(() => checkDashboardOptions({ token: 'short' })).toThrow(ConfigError);
    expect(() => checkDashboardOptions({ basicAuth: { username: 'a:b', password: 'x' } })).toThrow(ConfigError);
    expect(() => checkDashboardOptions({ authorize: 'yes' as never })).toThrow(ConfigError);
  });
});

describe('serveDashboard', () => {
  const app = createApp({ broker: 'memory://', logger: false });
  afterEach(async () => undefined);

  it('refuses a non-loopback host without credentials, and never listens', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    await expect(serveDashboard({ app, host: '0.0.0.0', port })).rejects.toBeInstanceOf(ConfigError);
    await expect(serveDashboard({ app, host: '::', port })).rejects.toThrow(/auth/);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(false)));
      socket.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('serves the dashboard on loopback, and on any host with credentials', async () => {
    const local = await serveDashboard({ app, port: 0 });
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dashboard\/$/);
    expect((await fetch(local.url)).status).toBe(200);
    const home = await fetch(local.url.replace('/dashboard/', '/'), { redirect: 'manual' });
    expect([home.status, home.headers.get('location')]).toEqual([303, '/dashboard/']);
    await local.close();
    const open = await serveDashboard({ app, host: '0.0.0.0', port: 0, auth: { token: TOKEN } });
    const url = open.url.replace('0.0.0.0', '127.0.0.1');
    expect((await fetch(`${url}api/overview`)).status).toBe(401);
    expect((await fetch(`${url}api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    // the status routes that come with it are guarded the same way
    const status = await fetch(url.replace('/dashboard/', '/task_status/?task_id=00000000-0000-4000-8000-000000000000'));
    expect(status.status).toBe(401);
    await open.close();
    await app.close();
  });
});

describe('over HTTP', () => {
  let d: Dashboard | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('token: the page sends you to the login form, which sets a cookie that works', async () => {
    d = await startDashboard({ token: TOKEN });
    const page = await fetch(`${d.base}/`, { redirect: 'manual' });
    expect([page.status, page.headers.get('location')]).toEqual([303, '/errand/dashboard/login']);
    expect((await fetch(`${d.base}/api/overview`)).status).toBe(401);
    const login = await fetch(`${d.base}/login`);
    const csrf = /data-csrf="([0-9a-f]{64})"/.exec(await login.text())![1]!;
    const csrfCookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const post = (token: string, headers: Record<string, string> = {}) =>
      fetch(`${d!.base}/api/login`, {
        method: 'POST',
        headers: { cookie: csrfCookie, 'x-csrf-token': csrf, ...headers },
        body: JSON.stringify({ token }),
      });
    expect((await post('wrong-token-wrong-token')).status).toBe(401);
    expect((await post(TOKEN, { 'x-csrf-token': 'f'.repeat(64) })).status).toBe(403);
    const ok = await post(TOKEN);
    expect(ok.status).toBe(204);
    const loginCookie = ok.headers.get('set-cookie')!;
    expect(loginCookie).toMatch(/HttpOnly/);
    expect(loginCookie).toMatch(/SameSite=Strict/);
    expect(loginCookie).not.toContain(TOKEN);
    const overview = await fetch(`${d.base}/api/overview`, { headers: { cookie: loginCookie.split(';')[0]! } });
    expect(overview.status).toBe(200);
  });

  it('a read-only user sees the page and the data, and gets 403 JSON for every action', async () => {
    d = await startDashboard({
      basicAuth: [
        { username: 'ro', password: 'pw', access: 'read' },
        { username: 'rw', password: 'pw' },
      ],
    });
    const ro = { authorization: basic('ro', 'pw') };
    const auth = await session(d.base, ro);
    expect((await fetch(`${d.base}/api/tasks`, { headers: ro })).status).toBe(200);
    const refused = await postAction(d.base, 'pause', { queue: 'default' }, auth, ro);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'forbidden', message: expect.stringMatching(/read-only/) });
    const rw = { authorization: basic('rw', 'pw') };
    const done = await postAction(d.base, 'pause', { queue: 'default' }, await session(d.base, rw), rw);
    expect(done.status).toBe(200);
    expect((await d.app.admin.actions(1))[0]).toMatchObject({ action: 'pause', actor: 'rw' });
  });
});
