// The task, defined once and imported by the process that enqueues and by every worker process.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Errand } from '../../src/index.js';
import type { ImageStore } from './image-store.js';

/** Stands for resizing an image: a little asynchronous work, so many runs overlap. */
async function resize(image: string, signal: AbortSignal): Promise<string> {
  await sleep(5, undefined, { signal });
  return `/processed/${image}.jpg`;
}

export function defineImageTasks(app: Errand, store: ImageStore) {
  return {
    processImage: app.task('images.process', async (ctx, image: string) => {
      // Keyed by content: the same image enqueued twice (or run twice after a crash) is one row.
      const hash = 'sha256:' + createHash('sha256').update(image).digest('hex');
      const path = await resize(image, ctx.signal);
      await store.recordProcessed(hash, path);
      await store.countRun();
      return hash;
    }),
  };
}
