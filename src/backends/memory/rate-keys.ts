import type { RateLimit } from '../../core/backend.js';
import { rateLimitWait, recordRateHit, type RateKeyState } from '../../core/flow-control.js';

/** Per rate-limit key (NewTask.rateLimits): its latest claim times (a sliding window) and any hold. */
export class RateKeys {
  private readonly states = new Map<string, RateKeyState>();

  /** How long until a task with these limits may be claimed at `now` (0: at once). */
  wait(limits: readonly RateLimit[], now: number): number {
    return rateLimitWait(limits, (key) => this.states.get(key), now);
  }

  /** Records a claim at `now`. */
  hit(limits: readonly RateLimit[], now: number): void {
    recordRateHit(limits, (key) => this.state(key), now);
  }

  /** Blocks these keys until `until` (a longer hold wins). */
  hold(limits: readonly RateLimit[], until: number): void {
    for (const { key } of limits) {
      const s = this.state(key);
      s.heldUntil = Math.max(s.heldUntil, until);
    }
  }

  private state(key: string): RateKeyState {
    let s = this.states.get(key);
    if (!s) this.states.set(key, (s = { hits: [], keepMs: 0, keepN: 0, heldUntil: 0 }));
    return s;
  }
}
