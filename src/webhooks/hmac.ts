import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../core/errors.js';
import { WebhookVerificationError } from './errors.js';

/** Providers sign a few minutes' worth of deliveries: older ones are replays (or a clock far off). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** HMAC-SHA256 of `prefix` followed by the raw body bytes (never re-encoded: one changed byte breaks it). */
export function hmacSha256(key: Uint8Array | string, prefix: string, body: Uint8Array): Buffer {
  return createHmac('sha256', key).update(prefix, 'utf8').update(body).digest();
}

/** Constant-time comparison, so a forger cannot learn a signature byte by byte from response times. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Seconds since the epoch, digits only (what both schemes send). */
export function parseTimestamp(text: string | undefined): number {
  if (text === undefined || !/^\d{1,12}$/.test(text)) {
    throw new WebhookVerificationError('malformed_signature', 'the signature timestamp is not a number of seconds');
  }
  return Number(text);
}

/** Refuses a timestamp further than `toleranceSeconds` from now, in either direction. */
export function checkTimestamp(timestamp: number, nowMs: number, toleranceSeconds: number): void {
  const skew = Math.floor(nowMs / 1000) - timestamp;
  if (skew > toleranceSeconds) {
    throw new WebhookVerificationError(
      'timestamp_out_of_tolerance',
      `the delivery was signed ${skew} s ago (tolerance ${toleranceSeconds} s)`,
    );
  }
  if (-skew > toleranceSeconds) {
    throw new WebhookVerificationError(
      'timestamp_out_of_tolerance',
      `the delivery is signed ${-skew} s in the future (tolerance ${toleranceSeconds} s)`,
    );
  }
}

export function secretList(secrets: string | readonly string[], what: string): readonly string[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new ConfigError(`${what}: secrets must be a non-empty string or a non-empty list of them`);
  }
  return list;
}

export function checkTolerance(toleranceSeconds: number | undefined, what: string): number {
  const tolerance = toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new ConfigError(`${what}: toleranceSeconds must be a number >= 0`);
  return tolerance;
}
