import { setTimeout as sleep } from 'node:timers/promises';
import type { Errand, Task } from '../src/index.js';

export const PROGRESS_TASK = 'demo.process_items';
/** How many items the /progress/ page's task works through. */
export const PROGRESS_ITEMS = 200;

export interface ProgressResult {
  processed: number;
  /** Something computed from every item, so the result is not a constant. */
  checksum: number;
}

/**
 * A long task that reports progress after each item: the page shows it as a
 * live bar. `itemMs` is the simulated work per item (PROGRESS_ITEM_MS).
 */
export function defineProgressTask(app: Errand, itemMs: number): Task<[items: number], ProgressResult> {
  return app.task(PROGRESS_TASK, async (ctx, items: number): Promise<ProgressResult> => {
    let checksum = 0;
    for (let item = 1; item <= items; item++) {
      // A revoke or shutdown stops the work between items.
      await sleep(itemMs, undefined, { signal: ctx.signal });
      checksum = (checksum * 31 + item) % 1_000_003;
      await ctx.progress(item, items, { item });
    }
    return { processed: items, checksum };
  });
}
