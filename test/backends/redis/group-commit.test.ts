import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../src/backends/redis/group-commit.js';

describe('GroupCommit', () => {
  it('sends a lone item at once and batches items that arrive while a batch is in flight', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const commit = new GroupCommit<number, number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await gate;
      return items.map((n) => n * 10);
    }, 100);
    const first = commit.submit(1);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    const rest = [2, 3, 4].map((n) => commit.submit(n));
    await new Promise((r) => setImmediate(r));
    expect(batches).toHaveLength(1); // waiting for the batch in flight
    release();
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('splits at maxBatch, rejects a failed batch only, and drain() waits for everything', async () => {
    const batches: number[][] = [];
    const commit = new GroupCommit<number, number>(async (items) => {
      batches.push(items);
      if (items.includes(3)) throw new Error('boom');
      return items;
    }, 2);
    const results = [1, 2, 3, 4, 5].map((n) => commit.submit(n).catch((e: Error) => e.message));
    await commit.drain();
    expect(await Promise.all(results)).toEqual([1, 2, 'boom', 'boom', 5]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });
});
