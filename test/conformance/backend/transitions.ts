import { describe, expect, it } from 'vitest';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** The worker-side transitions of a live delivery: progress, complete, fail, each one version more. */
export function describeTransitions(setup: Setup): void {
  describe('worker-side transitions', () => {
    it('progress, complete: versions bump, result is the parsed JSON, finished fields set', async () => {
      const b = (await setup()).app.backend;
      const task = newTask();
      await b.enqueue(task);
      const [claimed] = await b.claim(claimRequest());
      expect(await b.recordProgress(claimed!, { current: 1, total: 4, meta: { step: 'x' } })).toBe(true);
      expect(await b.getInfo(task.id)).toMatchObject({
        state: 'PROGRESS',
        version: 3,
        progress: { current: 1, total: 4, meta: { step: 'x' } },
      });
      expect(await b.complete(claimed!, '{"a":[1,null,"ü\\u2028"]}')).toBe(true);
      const done = (await b.getInfo(task.id))!;
      expect(done).toMatchObject({ state: 'SUCCESS', version: 4, result: { a: [1, null, 'ü\u2028'] } });
      expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt!);
      // a finished task cannot be finished again
      expect(await b.complete(claimed!, '1')).toBe(false);
      expect(await b.fail(claimed!, { type: 'E', message: 'm' })).toBe(false);
    });

    it('a null result is stored as null, not left out', async () => {
      const b = (await setup()).app.backend;
      await b.enqueue(newTask());
      const [claimed] = await b.claim(claimRequest());
      expect(await b.complete(claimed!, 'null')).toBe(true);
      const info = (await b.getInfo(claimed!.id))!;
      expect('result' in info).toBe(true);
      expect(info.result).toBeNull();
    });

    it('fail ends FAILURE with the error', async () => {
      const b = (await setup()).app.backend;
      await b.enqueue(newTask());
      const [claimed] = await b.claim(claimRequest());
      expect(await b.fail(claimed!, { type: 'Boom', message: 'bad' })).toBe(true);
      const info = (await b.getInfo(claimed!.id))!;
      expect(info).toMatchObject({ state: 'FAILURE', version: 3, error: { type: 'Boom', message: 'bad' } });
      expect(info.finishedAt).toBeGreaterThanOrEqual(info.startedAt!);
    });
  });
}
