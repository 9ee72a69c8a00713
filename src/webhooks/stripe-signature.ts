import { WebhookVerificationError } from './errors.js';
import { checkTimestamp, checkTolerance, hmacSha256, parseTimestamp, sameBytes, secretList } from './hmac.js';

/**
 * Stripe's scheme: the Stripe-Signature header "t=<seconds>,v1=<hex>[,v1=<hex>…]",
 * HMAC-SHA256 over `${t}.${body}` keyed with the whole secret string as UTF-8
 * ("whsec_…" included: unlike Standard Webhooks, it is not base64-decoded).
 */
export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';

export interface StripeVerifyOptions {
  /** The Stripe-Signature header's value. */
  header: string | undefined;
  body: Uint8Array;
  secrets: string | readonly string[];
  toleranceSeconds?: number;
  /** ms; default Date.now(). */
  now?: number;
}

/** Throws WebhookVerificationError unless one v1 signature matches one of the secrets within the tolerance. */
export function verifyStripeSignature(options: StripeVerifyOptions): { timestamp: number } {
  const secrets = secretList(options.secrets, 'verifyStripeSignature');
  const tolerance = checkTolerance(options.toleranceSeconds, 'verifyStripeSignature');
  if (!options.header) throw new WebhookVerificationError('missing_signature', 'the Stripe-Signature header is required');
  let t: string | undefined;
  const offered: Buffer[] = [];
  for (const item of options.header.split(',')) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (name === 't') t = value;
    else if (name === 'v1' && /^[0-9a-f]{64}$/i.test(value)) offered.push(Buffer.from(value, 'hex'));
  }
  if (t === undefined) throw new WebhookVerificationError('malformed_signature', 'Stripe-Signature has no t= timestamp');
  const timestamp = parseTimestamp(t);
  checkTimestamp(timestamp, options.now ?? Date.now(), tolerance);
  if (offered.length === 0) throw new WebhookVerificationError('malformed_signature', 'Stripe-Signature has no v1 signature');
  for (const secret of secrets) {
    const expected = hmacSha256(secret, `${t}.`, options.body);
    if (offered.some((candidate) => sameBytes(candidate, expected))) return { timestamp };
  }
  throw new WebhookVerificationError('signature_mismatch', 'no Stripe-Signature v1 matches a configured secret');
}

/** A Stripe-Signature value ("t=…,v1=…"): for tests and for sending webhooks. */
export function signStripeSignature(options: { timestamp: number; body: Uint8Array | string; secret: string }): string {
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  const mac = hmacSha256(options.secret, `${options.timestamp}.`, body);
  return `t=${options.timestamp},v1=${mac.toString('hex')}`;
}
