import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postAction, session, startDashboard, type Dashboard } from './support.js';

describe('CSRF protection of actions', () => {
  let d: Dashboard;
  let auth: { cookie: string; token: string };
  beforeAll(async () => {
    d = await startDashboard();
    auth = await session(d.base);
  });
  afterAll(() => d.close());

  it('the page sets a SameSite=Strict HttpOnly cookie and carries the same token; a second load keeps it', async () => {
    const page = await fetch(`${d.base}/`);
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^errand_dashboard_csrf=[0-9a-f]{64}; Path=\/errand\/dashboard\/; HttpOnly; SameSite=Strict$/);
    const again = await fetch(`${d.base}/`, { headers: { cookie: auth.cookie } });
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain(`data-csrf="${auth.token}"`);
  });

  async function refusedWith(response: Response): Promise<string> {
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe('forbidden');
    return body.message;
  }

  it('refuses a POST without the token, with a wrong one, or without the cookie', async () => {
    const url = `${d.base}/api/actions/pause`;
    const body = JSON.stringify({ queue: 'default' });
    expect(await refusedWith(await fetch(url, { method: 'POST', headers: { cookie: auth.cookie }, body }))).toMatch(
      /x-csrf-token/,
    );
    expect(
      await refusedWith(await postAction(d.base, 'pause', { queue: 'default' }, { ...auth, token: 'f'.repeat(64) })),
    ).toMatch(/x-csrf-token/);
    expect(await refusedWith(await postAction(d.base, 'pause', { queue: 'default' }, { ...auth, cookie: '' }))).toMatch(/cookie/);
    expect(await d.app.admin.actions()).toEqual([]);
  });

  it('refuses a cross-site Origin or Sec-Fetch-Site even with the right token', async () => {
    const pause = (headers: Record<string, string>) => postAction(d.base, 'pause', { queue: 'default' }, auth, headers);
    expect(await refusedWith(await pause({ origin: 'http://evil.example' }))).toMatch(/Origin/);
    expect(await refusedWith(await pause({ origin: 'null' }))).toMatch(/Origin/);
    expect(await refusedWith(await pause({ 'sec-fetch-site': 'cross-site' }))).toMatch(/cross-site/);
    expect(await refusedWith(await pause({ 'sec-fetch-site': 'same-site' }))).toMatch(/same-site/);
    expect(await d.app.admin.actions()).toEqual([]);
    const ok = await pause({ origin: d.origin, 'sec-fetch-site': 'same-origin' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ action: 'pause', count: 1 });
    expect((await d.app.admin.actions())[0]).toMatchObject({ action: 'pause', actor: 'local', target: 'queue default' });
  });
});
