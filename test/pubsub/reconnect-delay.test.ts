import { describe, expect, it } from 'vitest';
import { RECONNECT_MAX_MS, reconnectDelay } from '../../src/pubsub/pubsub.js';

describe('the reconnect rule', () => {
  it('waits 100 ms, doubling to 2 s, each wait up to a quarter shorter at random', () => {
    const longest = (attempt: number) => reconnectDelay(attempt, () => 0);
    const shortest = (attempt: number) => reconnectDelay(attempt, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 50, 5000].map(longest)).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000]);
    expect([0, 4, 5000].map(shortest)).toEqual([75, 1200, 1500]);
    for (let attempt = 0; attempt < 20; attempt++) {
      const wait = reconnectDelay(attempt);
      expect(wait).toBeGreaterThanOrEqual(shortest(attempt));
      expect(wait).toBeLessThanOrEqual(Math.min(RECONNECT_MAX_MS, longest(attempt)));
    }
  });
});
