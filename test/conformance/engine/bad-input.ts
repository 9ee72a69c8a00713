import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, SerializationError, type TaskFailedError } from '../../../src/index.js';
import { waitFor } from '../../support/wait.js';
import type { Setup } from '../seam.js';

/** Arguments and results that are not JSON data, too big or too deep, and messages no worker can run. */
export function describeBadInput(setup: Setup): void {
  describe('bad input', () => {
    it('refuses arguments that are not JSON data, storing nothing', async () => {
      const env = await setup();
      const anyTask = env.app.task('conf.any', (_ctx, value: unknown) => value);
      for (const bad of [() => 1, new Date(), 10n, Number.NaN, new Map(), undefined]) {
        await expect(anyTask.delay(bad)).rejects.toBeInstanceOf(SerializationError);
      }
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(anyTask.delay(cyclic)).rejects.toThrow(/circular/);
      await expect(anyTask.delay({ nested: [1, { when: new Date() }] })).rejects.toThrow(/args\[0\]\.nested\[1\]\.when/);
    });

    it('refuses arguments over the payload limit', async () => {
      const env = await setup({ payloadLimitBytes: 1024 });
      const anyTask = env.app.task('conf.big', (_ctx, value: string) => value.length);
      await expect(anyTask.delay('x'.repeat(2000))).rejects.toBeInstanceOf(PayloadTooLargeError);
    });

    it('dead-letters a task no worker knows and an undecodable message, and goes on', async () => {
      const env = await setup();
      await env.worker();
      const unknown = await env.app.sendTask('conf.nobody', [1]);
      await env.app.backend.enqueue({
        id: randomUUID(),
        name: 'conf.add',
        queue: 'default',
        payload: '{not json',
        enqueuedAt: Date.now(),
        runAt: Date.now(),
      });
      const ok = await env.tasks.add.delay(1, 2);
      expect(await ok.get({ timeout: 5000 })).toBe(3);
      const failed = (await unknown.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
      expect(failed.error.type).toBe('UnknownTaskError');
      const letters = await waitFor(async () => {
        const l = await env.app.deadLetters();
        return l.length === 2 ? l : undefined;
      });
      expect(letters.map((l) => l.error.type).sort()).toEqual(['DecodeError', 'UnknownTaskError']);
      expect(letters.find((l) => l.error.type === 'DecodeError')!.payload).toBe('{not json');
    });

    it('fails a task whose result is not JSON data', async () => {
      const env = await setup();
      const badResult = env.app.task('conf.badresult', () => new Map() as unknown as number);
      await env.worker();
      const r = await badResult.delay();
      const error = (await r.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
      expect(error.error.type).toBe('SerializationError');
    });

    it('dead-letters arguments nested too deep as a DecodeError, refuses to store or return such values, and goes on', async () => {
      const env = await setup();
      const echo = env.app.task('conf.echo', (_ctx, value: unknown) => value);
      const deepen = env.app.task('conf.deepen', (_ctx, levels: number) => {
        let value: unknown = 1;
        for (let i = 0; i < levels; i++) value = [value];
        return value;
      });
      await env.worker();
      const n = 200_000;
      const ids = [randomUUID(), randomUUID()];
      for (const [i, payload] of ['['.repeat(n) + ']'.repeat(n), `[${'{"a":'.repeat(n)}1${'}'.repeat(n)}]`].entries()) {
        const t = Date.now();
        await env.app.backend.enqueue({ id: ids[i]!, name: 'conf.echo', queue: 'default', payload, enqueuedAt: t, runAt: t });
      }
      const letters = await waitFor(async () => {
        const l = await env.app.deadLetters();
        return ids.every((id) => l.some((letter) => letter.id === id)) ? l : undefined;
      });
      for (const letter of letters) {
        expect(letter.error.type).toBe('DecodeError');
        expect(letter.error.message).toMatch(/nested deeper than \d+ levels/);
      }
      // encoding says so clearly, at delay() and for a result
      let deepValue: unknown = 1;
      for (let i = 0; i < n; i++) deepValue = [deepValue];
      await expect(echo.delay(deepValue)).rejects.toThrow(/nested deeper than \d+ levels/);
      const error = (await (await deepen.delay(n)).get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
      expect(error.error).toMatchObject({ type: 'SerializationError', message: expect.stringMatching(/nested deeper than/) });
      expect(await (await echo.delay([[['fine']]])).get({ timeout: 5000 })).toEqual([[['fine']]]);
    });
  });
}
