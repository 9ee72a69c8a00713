import type { ConcurrencyLimit } from '../../core/backend.js';

/** How many running tasks hold each concurrency key (NewTask.limits). */
export class RunningKeys {
  private readonly counts = new Map<string, number>();

  /** True when every limit has a free slot. */
  fits(limits: readonly ConcurrencyLimit[]): boolean {
    return limits.every(({ key, limit }) => (this.counts.get(key) ?? 0) < limit);
  }

  take(limits: readonly ConcurrencyLimit[]): void {
    for (const { key } of limits) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  free(limits: readonly ConcurrencyLimit[]): void {
    for (const { key } of limits) {
      const n = (this.counts.get(key) ?? 1) - 1;
      if (n > 0) this.counts.set(key, n);
      else this.counts.delete(key);
    }
  }
}
