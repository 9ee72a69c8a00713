/**
 * A simulated provider with a quota: at most `limit` calls per fixed window
 * of `windowMs` (aligned to the clock); any call beyond it is answered
 * "429, retry after N ms", N being the time left in the window.
 */
export type Answer = { ok: true } | { ok: false; retryAfterMs: number };

export class Provider {
  calls = 0;
  rejected = 0;
  private window = -1;
  private inWindow = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  call(): Answer {
    const now = Date.now();
    const window = Math.floor(now / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.inWindow = 0;
    }
    this.calls++;
    if (this.inWindow >= this.limit) {
      this.rejected++;
      return { ok: false, retryAfterMs: Math.max(1, (window + 1) * this.windowMs - now) };
    }
    this.inWindow++;
    return { ok: true };
  }
}
