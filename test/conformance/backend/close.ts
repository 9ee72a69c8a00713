import { describe, expect, it } from 'vitest';
import { ClosedError } from '../../../src/index.js';
import { delay } from '../../support/wait.js';
import { claimRequest, newTask, type Setup } from '../seam.js';

/** Backend.close: a waiting claim ends with ClosedError at once, every later call throws it, and closing twice is fine. */
export function describeClose(setup: Setup): void {
  describe('close', () => {
    it('after close() calls throw ClosedError, and a waiting claim ends with it at once', async () => {
      const env = await setup();
      const b = env.otherApp().backend;
      await b.countWaiting('default');
      // Caught at once: the rejection may come while close() is still being awaited.
      const waiting = b.claim(claimRequest('w1', { waitMs: 10_000 })).catch((error: unknown) => error);
      await delay(100);
      const closing = Date.now();
      await b.close();
      expect(await waiting).toBeInstanceOf(ClosedError);
      expect(Date.now() - closing).toBeLessThan(1000);
      await expect(b.enqueue(newTask())).rejects.toBeInstanceOf(ClosedError);
      await expect(b.getInfo('x')).rejects.toBeInstanceOf(ClosedError);
      await expect(b.subscribeStatus('x', () => {})).rejects.toBeInstanceOf(ClosedError);
      await expect(b.subscribeRevocations(() => {})).rejects.toBeInstanceOf(ClosedError);
      await expect(b.prune()).rejects.toBeInstanceOf(ClosedError);
      await expect(b.rescueExpired()).rejects.toBeInstanceOf(ClosedError);
      await expect(b.listDeadLetters(10)).rejects.toBeInstanceOf(ClosedError);
      await b.close(); // twice is fine
    });
  });
}
