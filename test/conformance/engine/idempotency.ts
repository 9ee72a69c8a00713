import { describe, expect, it } from 'vitest';
import { delay, waitFor } from '../../support/wait.js';
import type { Setup } from '../seam.js';

/** idempotencyKey through the app: one task per key, and what the app does with a conflicting reuse. */
export function describeIdempotency(setup: Setup): void {
  describe('idempotency', () => {
    it('a second applyAsync with the same key returns the first id and enqueues nothing', async () => {
      const env = await setup();
      const a = await env.tasks.record.applyAsync(['once'], { idempotencyKey: 'order-42' });
      const b = await env.otherApp().sendTask('conf.record', ['twice'], { idempotencyKey: 'order-42' });
      expect(b.id).toBe(a.id);
      await env.worker();
      await a.get({ timeout: 5000 });
      await delay(200);
      expect(env.lines().filter((l) => l.startsWith('start '))).toEqual([expect.stringContaining('start once')]);
      const c = await env.tasks.record.applyAsync(['other'], { idempotencyKey: 'order-43' });
      expect(c.id).not.toBe(a.id);
    });
  });

  describe('idempotency conflicts', () => {
    const capture = () => {
      const warnings: Array<{ obj: object; msg?: string }> = [];
      const noop = (): void => {};
      return {
        warnings,
        logger: { debug: noop, info: noop, error: noop, warn: (obj: object, msg?: string) => warnings.push({ obj, msg }) },
      };
    };

    it('the app warns by default and returns the known task', async () => {
      const { warnings, logger } = capture();
      const env = await setup({ logger });
      const a = await env.tasks.add.applyAsync([1, 2], { idempotencyKey: 'order-7' });
      const same = await env.tasks.add.applyAsync([1, 2], { idempotencyKey: 'order-7' });
      expect(same.id).toBe(a.id);
      expect(warnings).toEqual([]);
      const other = await env.tasks.add.applyAsync([5, 5], { idempotencyKey: 'order-7' });
      expect(other.id).toBe(a.id);
      expect(warnings).toEqual([
        {
          obj: { task: 'conf.add', idempotencyKey: 'order-7', taskId: a.id },
          msg: expect.stringMatching(/idempotency key reused with other arguments/),
        },
      ]);
      const [, batched] = await env.tasks.add.applyAsyncMany([
        { args: [1, 1], options: { idempotencyKey: 'order-8' } },
        { args: [2, 2], options: { idempotencyKey: 'order-8' } },
      ]);
      expect(warnings.at(-1)!.obj).toMatchObject({ idempotencyKey: 'order-8', index: 1, taskId: batched!.id });
    });

    it("onConflict: 'error' (app, task or call) throws IdempotencyConflictError; the call's option wins", async () => {
      const env = await setup({ idempotency: { onConflict: 'error' } });
      const a = await env.tasks.add.applyAsync([1, 2], { idempotencyKey: 'strict' });
      const refused = await env
        .otherApp()
        .sendTask('conf.add', [2, 1], { idempotencyKey: 'strict' })
        .catch((x: unknown) => x);
      expect(refused).toMatchObject({
        name: 'IdempotencyConflictError',
        code: 'ERR_IDEMPOTENCY_CONFLICT',
        idempotencyKey: 'strict',
        taskId: a.id,
      });
      expect((await env.tasks.add.applyAsync([2, 1], { idempotencyKey: 'strict', idempotency: { onConflict: 'warn' } })).id).toBe(
        a.id,
      );
      const lenient = env.otherApp({ idempotency: { onConflict: 'warn' } });
      const strictTask = lenient.task('conf.strict', (_ctx, n: number) => n, { idempotency: { onConflict: 'error' } });
      await strictTask.applyAsync([1], { idempotencyKey: 'strict-task' });
      await expect(strictTask.applyAsync([2], { idempotencyKey: 'strict-task' })).rejects.toMatchObject({
        code: 'ERR_IDEMPOTENCY_CONFLICT',
      });
      // in a batch: the others are stored, the error names the item
      const batch = await env.tasks.add
        .applyAsyncMany([{ args: [7, 7] }, { args: [9, 9], options: { idempotencyKey: 'strict' } }])
        .catch((x: unknown) => x);
      expect(batch).toMatchObject({
        code: 'ERR_IDEMPOTENCY_CONFLICT',
        index: 1,
        message: expect.stringMatching(/^items\[1\]:/),
      });
      await env.worker();
      await waitFor(async () => (await env.app.backend.getInfo(a.id))?.state === 'SUCCESS', 5000);
    });
  });
}
