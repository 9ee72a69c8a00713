import { describe, expect, it } from 'vitest';
import type { TaskInfo } from '../../../src/index.js';
import { waitFor } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** Backend.subscribeStatus: every transition, in version order, with the TaskInfo getInfo reads, in this app and another. */
export function describeStatusEvents(setup: Setup): void {
  describe('status events', () => {
    it('subscribers in another app hear every transition in version order, with the TaskInfo getInfo reads', async () => {
      const env = await setup();
      const watcher = env.otherApp().backend;
      const worker = env.app.backend;
      const t = newTask();
      await worker.enqueue(t);
      const seen: TaskInfo[] = [];
      const other: TaskInfo[] = [];
      const off = await watcher.subscribeStatus(t.id, (i) => seen.push(i));
      const off2 = await watcher.subscribeStatus(t.id, (i) => other.push(i));
      const [c] = await worker.claim(claimRequest());
      await worker.recordProgress(c!, { current: 1, total: 3, meta: { step: 'a/b "q"' } });
      for (let i = 2; i <= 3; i++) await worker.recordProgress(c!, { current: i, total: 3 });
      expect(await worker.complete(c!, '{"answer":42}')).toBe(true);
      await waitFor(() => seen.length === 5, 3000, 'five events');
      expect(seen.map((s) => [s.state, s.version])).toEqual([
        ['STARTED', 2],
        ['PROGRESS', 3],
        ['PROGRESS', 4],
        ['PROGRESS', 5],
        ['SUCCESS', 6],
      ]);
      expect(seen[1]!.progress).toEqual({ current: 1, total: 3, meta: { step: 'a/b "q"' } });
      expect(seen[4]!.result).toEqual({ answer: 42 });
      expect(seen[4]).toEqual(await watcher.getInfo(t.id));
      await off();
      expect(other).toHaveLength(5);
      await off2();
    });
  });
}
