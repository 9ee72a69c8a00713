// Where processed images are recorded, shared by every worker process.
// Each method is one atomic step in the store, so concurrent tasks cannot undo each other's writes.
import { openRedisImageStore } from './redis-image-store.js';
import { openSqliteImageStore } from './sqlite-image-store.js';

export interface ImageStore {
  /** Records an image as processed, keyed by its content hash; recording it again changes nothing. */
  recordProcessed(hash: string, path: string): Promise<void>;
  /** How many distinct images are processed, counted from the records themselves. */
  processedCount(): Promise<number>;
  /** Adds one to the run counter in a single atomic statement (counts every run, duplicates too). */
  countRun(): Promise<void>;
  runs(): Promise<number>;
  close(): Promise<void>;
}

/** 'sqlite:///abs/images.db' (a file of its own, not the broker's) or 'redis://host:port/db?prefix=images'. */
export function openImageStore(url: string): Promise<ImageStore> {
  if (url.startsWith('sqlite://')) return Promise.resolve(openSqliteImageStore(url.slice('sqlite://'.length)));
  if (url.startsWith('redis://')) return openRedisImageStore(url);
  throw new Error(`unsupported image store URL: ${url}`);
}
