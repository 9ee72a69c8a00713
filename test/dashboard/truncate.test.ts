import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preview } from '../../src/web/dashboard/truncate.js';
import { startDashboard, type Dashboard } from './support.js';

describe('cutting values', () => {
  it('cuts by characters and by UTF-8 bytes, never inside a character', () => {
    expect(preview('abc', 200)).toEqual({ text: 'abc', bytes: 3, chars: 3, truncated: false });
    const cut = preview('é'.repeat(100), 200, 51);
    expect(cut).toMatchObject({ text: 'é'.repeat(25), bytes: 200, chars: 100, truncated: true });
  });
});

describe('the raw endpoint with multi-byte text', () => {
  let d: Dashboard;
  const text = '€'.repeat(50_000); // 3 bytes each: 150 KB
  beforeAll(async () => {
    d = await startDashboard({}, 'memory://', (app) => void app.task('euro.make', () => text));
  });
  afterAll(() => d.close());

  it('sends at most 64 KB a page, and the pages join up to the whole text', async () => {
    await d.worker();
    const r = await d.app.sendTask('euro.make', []);
    await r.get({ timeout: 10_000 });
    let offset = 0;
    let joined = '';
    for (let pages = 0; pages < 10; pages++) {
      const response = await fetch(`${d.base}/api/tasks/${r.id}/raw/result?offset=${offset}`);
      const body = await response.text();
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64 * 1024);
      joined += body;
      const next = response.headers.get('x-next-offset');
      if (next === null) break;
      offset = Number(next);
    }
    expect(joined).toBe(JSON.stringify(text));
  });
});
