import { afterEach, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../src/testing/index.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** errand/testing runs child tasks too: inline they finish before ctx.waitFor looks, manual mode suspends and resumes. */
for (const mode of ['inline', 'manual'] as const) {
  it(`${mode}: a parent waiting for its children gets their results`, async () => {
    t = createTestApp({ mode });
    const double = t.app.task('math.double', (_ctx, n: number) => n * 2);
    const sum = t.app.task('math.sumDoubled', async (ctx, ns: number[]) => {
      const children = [];
      for (const n of ns) children.push(await ctx.enqueue(double, [n]));
      return (await ctx.waitFor(children)).reduce((a, b) => a + b, 0);
    });
    const result = await sum.delay([1, 2, 3]);
    if (mode === 'manual') await t.drain();
    expect((await result.info())?.state).toBe('SUCCESS');
    expect(await result.get({ timeout: 1_000 })).toBe(12);
    expect(t.resultsOf('math.double').map((r) => r.result)).toEqual([2, 4, 6]);
  });
}

it('manual: a child due later suspends the parent until the clock reaches it', async () => {
  t = createTestApp({ mode: 'manual' });
  const later = t.app.task('child.later', () => 'done');
  const parent = t.app.task('parent.waits', async (ctx) => ctx.waitFor(await ctx.enqueue(later, [], { countdown: 5_000 })));
  const result = await parent.delay();
  await t.drain();
  expect((await result.info())?.state).toBe('PENDING');
  await t.drain({ advance: true });
  expect(await result.get({ timeout: 1_000 })).toBe('done');
});
