import { describe, expect, it } from 'vitest';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** Backend.deadLetter and listDeadLetters: the task ends FAILURE, its letter is kept, newest first, up to deadLetterLimit. */
export function describeDeadLetters(setup: Setup): void {
  describe('dead letters', () => {
    it('dead letters are kept newest first, capped at deadLetterLimit', async () => {
      const b = (await setup({ deadLetterLimit: 3 })).app.backend;
      const tasks = Array.from({ length: 5 }, (_, i) => newTask({ payload: `[${i}]` }));
      await b.enqueueMany(tasks);
      const claimed = await b.claim(claimRequest());
      for (const [i, task] of claimed.entries()) {
        expect(await b.deadLetter(task, { type: 'UnknownTaskError', message: `m${i}` })).toBe(true);
        expect(await b.getInfo(task.id)).toMatchObject({
          state: 'FAILURE',
          error: { type: 'UnknownTaskError', message: `m${i}` },
        });
      }
      const letters = await b.listDeadLetters(10);
      expect(letters.map((l) => l.payload)).toEqual(['[4]', '[3]', '[2]']);
      expect(letters[0]).toMatchObject({
        id: tasks[4]!.id,
        name: 'conf.add',
        queue: 'default',
        error: { type: 'UnknownTaskError', message: 'm4' },
      });
      expect(typeof letters[0]!.at).toBe('number');
      expect(await b.listDeadLetters(1)).toHaveLength(1);
    });
  });
}
