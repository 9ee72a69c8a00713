import { describe, expect, it } from 'vitest';
import { newTask, type Setup } from '../seam.js';

/** NewTask.idempotencyKey at the seam: one task per key, a reuse with other work reported atomically with the lookup. */
export function describeIdempotency(setup: Setup): void {
  describe('idempotency conflicts', () => {
    it('the backend reports a key reused with another payload or name, atomically with the lookup', async () => {
      const b = (await setup()).app.backend;
      const first = newTask({ idempotencyKey: 'c-1' });
      expect(await b.enqueue(first)).toEqual({ id: first.id, created: true });
      expect(await b.enqueue(newTask({ idempotencyKey: 'c-1' }))).toEqual({ id: first.id, created: false });
      expect(await b.enqueue(newTask({ idempotencyKey: 'c-1', payload: '[9,9]' }))).toEqual({
        id: first.id,
        created: false,
        conflict: true,
      });
      expect(await b.enqueue(newTask({ idempotencyKey: 'c-1', name: 'conf.other' }))).toMatchObject({ conflict: true });
      // a different queue or due time is the same work
      expect(await b.enqueue(newTask({ idempotencyKey: 'c-1', queue: 'q2', runAt: Date.now() + 5000 }))).toEqual({
        id: first.id,
        created: false,
      });
      const batch = await b.enqueueMany([
        newTask({ idempotencyKey: 'c-2' }),
        newTask({ idempotencyKey: 'c-2' }),
        newTask({ idempotencyKey: 'c-2', payload: '[3,4]' }),
        newTask({ idempotencyKey: 'c-1', payload: '[3,4]' }),
      ]);
      expect(batch.map((o) => [o.created, o.conflict ?? false])).toEqual([
        [true, false],
        [false, false],
        [false, true],
        [false, true],
      ]);
      expect(batch[2]!.id).toBe(batch[0]!.id);
      expect(batch[3]!.id).toBe(first.id);
      expect((await b.getInfo(first.id))!.version).toBe(1);
    });
  });
}
