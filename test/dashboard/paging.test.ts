import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type Dashboard } from './support.js';

describe('the task list pages and the schedules panel', () => {
  let d: Dashboard;
  beforeAll(async () => {
    d = await startDashboard({}, 'memory://', (app) => {
      const nightly = app.task('report.nightly', () => 'ok');
      app.schedule('nightly-report', { cron: '0 0 3 * * *', tz: 'UTC' }, nightly);
    });
  });
  afterAll(() => d.close());

  it('pages through the list with the cursor, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await d.app.sendTask('report.nightly', [], { queue: 'paged' })).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await fetch(
        `${d.base}/api/tasks?queue=paged&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      const page = (await response.json()) as { tasks: Array<{ id: string }>; next?: string };
      expect(page.tasks.length).toBeLessThanOrEqual(2);
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen).toHaveLength(5);
  });

  it('lists the schedules with their next run', async () => {
    const schedules = (await (await fetch(`${d.base}/api/schedules`)).json()) as Array<{
      name: string;
      spec: string;
      nextRunAt: number;
    }>;
    expect(schedules).toEqual([
      { name: 'nightly-report', task: 'report.nightly', spec: 'cron 0 0 3 * * * UTC', nextRunAt: expect.any(Number) },
    ]);
    expect(new Date(schedules[0]!.nextRunAt).getUTCHours()).toBe(3);
  });
});
