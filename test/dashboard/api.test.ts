import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { gate, postAction, session, startDashboard, type Dashboard } from './support.js';

const BIG = 'x'.repeat(5 * 1024 * 1024);

const sqliteFile = join(tmpdir(), `errand-dashboard-${process.pid}-${Date.now()}.db`);
afterAll(() => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(sqliteFile + suffix, { force: true });
});

describe.each(['memory://', `sqlite://${sqliteFile}`])('dashboard routes on %s', (broker) => {
  let d: Dashboard;
  let auth: { cookie: string; token: string };
  const held = gate();
  beforeAll(async () => {
    d = await startDashboard(
      { title: '<b>ops</b>' },
      broker,
      (app) => {
        app.task('dash.big', () => BIG);
        app.task('dash.fail', () => {
          throw new TypeError('nope');
        });
        app.task('dash.held', () => held.promise);
      },
      16 * 1024 * 1024,
    );
    auth = await session(d.base);
  });
  afterAll(async () => {
    held.open();
    await d.close();
  });

  it('serves the page with a strict CSP, escaped values and no inline script', async () => {
    const page = await fetch(`${d.base}/`);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('content-security-policy')).not.toMatch(/unsafe-inline/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('&#60;b&#62;ops&#60;/b&#62;');
    expect(html).not.toContain('<b>ops');
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    const noSlash = await fetch(`${d.base}`, { redirect: 'manual' });
    expect([noSlash.status, noSlash.headers.get('location')]).toEqual([303, '/errand/dashboard/']);
  });

  it('serves its scripts, its CSS and Chart.js from the npm package', async () => {
    for (const [file, type] of [
      ['main.js', 'javascript'],
      ['chart.umd.js', 'javascript'],
      ['dashboard.css', 'css'],
    ] as const) {
      const response = await fetch(`${d.base}/assets/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
      const etag = response.headers.get('etag')!;
      expect((await fetch(`${d.base}/assets/${file}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    }
    expect(await (await fetch(`${d.base}/assets/chart.umd.js`)).text()).toContain('Chart.js v4');
    expect((await fetch(`${d.base}/assets/..%2Fsecrets.js`)).status).toBe(404);
    expect((await fetch(`${d.base}/assets/nope.js`)).status).toBe(404);
  });

  it('answers bad input with 400 naming the field', async () => {
    const field = async (path: string) => {
      const response = await fetch(`${d.base}/api/${path}`);
      expect(response.status, path).toBe(400);
      return ((await response.json()) as { field: string }).field;
    };
    expect(await field('tasks?state=DONE')).toBe('state');
    expect(await field('tasks?cursor=nonsense')).toBe('cursor');
    expect(await field('tasks?limit=0')).toBe('limit');
    expect(await field('tasks?state=A&state=B')).toBe('state');
    expect(await field('live?state=DONE')).toBe('state');
    const action = async (name: string, body: unknown) => {
      const response = await postAction(d.base, name, body, auth);
      expect(response.status, name).toBe(400);
      return ((await response.json()) as { field: string }).field;
    };
    expect(await action('explode', {})).toBe('action');
    expect(await action('retry', { ids: 'x' })).toBe('ids');
    expect(await action('retry', { filter: { name: 'a' } })).toBe('filter.state');
    expect(await action('retry', { filter: { state: 'NOPE' } })).toBe('state');
    expect(await action('pause', { queue: '' })).toBe('queue');
    const notJson = await fetch(`${d.base}/api/actions/pause`, {
      method: 'POST',
      headers: { cookie: auth.cookie, 'x-csrf-token': auth.token, 'content-type': 'application/json' },
      body: '{oops',
    });
    expect(((await notJson.json()) as { field: string }).field).toBe('body');
    expect((await fetch(`${d.base}/api/tasks/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });

  it('never sends more than 64 KB of a 5 MB result; the raw endpoint pages through it', async () => {
    await d.worker();
    const r = await d.app.sendTask('dash.big', []);
    await r.get({ timeout: 10_000 });
    const list = await fetch(`${d.base}/api/tasks?name=dash.big`);
    const listText = await list.text();
    expect(listText.length).toBeLessThan(2000);
    const row = (JSON.parse(listText) as { tasks: Array<{ result: { text: string; bytes: number; truncated: boolean } }> })
      .tasks[0]!;
    expect(row.result).toMatchObject({ bytes: BIG.length + 2, truncated: true });
    expect(row.result.text.length).toBe(200);
    const detail = await fetch(`${d.base}/api/tasks/${r.id}`);
    const detailText = await detail.text();
    expect(detailText.length).toBeLessThan(70 * 1024);
    expect(JSON.parse(detailText)).toMatchObject({
      info: { result: { truncated: true, chars: BIG.length + 2 } },
      args: { text: '[]' },
    });
    const first = await fetch(`${d.base}/api/tasks/${r.id}/raw/result`);
    expect(first.status).toBe(206);
    expect(first.headers.get('x-total-length')).toBe(String(BIG.length + 2));
    expect(first.headers.get('x-next-offset')).toBe(String(64 * 1024));
    expect((await first.text()).length).toBe(64 * 1024);
    const last = await fetch(`${d.base}/api/tasks/${r.id}/raw/result?offset=${BIG.length - 10}`);
    expect(await last.text()).toBe(`${'x'.repeat(11)}"`);
    expect(last.headers.get('x-next-offset')).toBeNull();
    const args = await fetch(`${d.base}/api/tasks/${r.id}/raw/args`);
    expect([args.status, await args.text()]).toEqual([200, '[]']);
    expect((await fetch(`${d.base}/api/tasks/${r.id}/raw/other`)).status).toBe(400);
    expect((await fetch(`${d.base}/api/tasks/${r.id}/raw/result?limit=100000`)).status).toBe(400);
  });

  it('runs every action through app.admin, logged with the actor', async () => {
    const failed = await d.app.sendTask('dash.fail', []);
    await waitFor(async () => (await failed.info())?.state === 'FAILURE');
    const retried = await postAction(d.base, 'retry', { filter: { state: 'FAILURE', name: 'dash.fail' } }, auth);
    expect(await retried.json()).toEqual({ action: 'retry', count: 1 });
    await waitFor(async () => (await failed.info())?.state === 'FAILURE' && (await failed.info())!.attempts === 2);
    const waiting = await d.app.sendTask('dash.held', [], { queue: 'nobody' });
    expect(await (await postAction(d.base, 'revoke', { ids: [waiting.id] }, auth)).json()).toMatchObject({ count: 1 });
    expect((await waiting.info())!.state).toBe('REVOKED');
    await d.app.sendTask('dash.held', [], { queue: 'nobody' });
    expect(await (await postAction(d.base, 'purge', { queue: 'nobody' }, auth)).json()).toMatchObject({ count: 1 });
    await postAction(d.base, 'pause', { queue: 'nobody' }, auth);
    expect((await (await fetch(`${d.base}/api/overview`)).json()) as object).toMatchObject({ paused: ['nobody'] });
    await postAction(d.base, 'resume', { queue: 'nobody' }, auth);
    const orphan = await d.app.sendTask('dash.unknown', []);
    await d.app.sendTask('dash.unknown2', []);
    await waitFor(async () => (await d.app.admin.deadLetters()).length === 2);
    const letters = (await (await fetch(`${d.base}/api/deadLetters`)).json()) as Array<{ id: string }>;
    expect(letters.map((l) => l.id)).toContain(orphan.id);
    expect(await (await postAction(d.base, 'retry-dead-letters', { ids: [orphan.id] }, auth)).json()).toMatchObject({ count: 1 });
    expect(await (await postAction(d.base, 'drop-dead-letters', { all: true }, auth)).json()).toMatchObject({
      count: expect.any(Number),
    });
    const log = (await (await fetch(`${d.base}/api/actions`)).json()) as Array<{ action: string; actor: string }>;
    expect(log.map((a) => a.action)).toEqual([
      'drop-dead-letters',
      'retry-dead-letters',
      'resume',
      'pause',
      'purge',
      'revoke',
      'retry',
    ]);
    expect(new Set(log.map((a) => a.actor))).toEqual(new Set(['local']));
  });

  it('streams the panels over SSE, then only what changed', async () => {
    const controller = new AbortController();
    const response = await fetch(`${d.base}/api/live?name=dash.held`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await until(/event: tasks\ndata: .*\n\n[\s\S]*event: history/);
    for (const panel of ['overview', 'workers', 'deadLetters', 'schedules', 'actions', 'history'])
      expect(text).toContain(`event: ${panel}\n`);
    text = '';
    const r = await d.app.sendTask('dash.held', []);
    await until(new RegExp(`event: tasks\\ndata: .*${r.id}`));
    controller.abort();
  });
});
