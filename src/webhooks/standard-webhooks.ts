import { ConfigError } from '../core/errors.js';
import { WebhookVerificationError } from './errors.js';
import { checkTimestamp, checkTolerance, hmacSha256, parseTimestamp, sameBytes, secretList } from './hmac.js';

/**
 * Standard Webhooks (standardwebhooks.com; Svix, and providers built on it):
 * headers webhook-id, webhook-timestamp and webhook-signature ("v1,<base64>",
 * several space-separated while the sender rotates keys); the secret is
 * "whsec_<base64 key>"; the MAC is HMAC-SHA256 over `${id}.${timestamp}.${body}`.
 */
export interface StandardVerifyOptions {
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
  /** Every secret currently valid (the old and the new one while rotating). */
  secrets: string | readonly string[];
  toleranceSeconds?: number;
  /** The time to check the timestamp against, in ms (default Date.now()). */
  now?: number;
}

export interface VerifiedStandardDelivery {
  /** webhook-id: the message id, the same on every retry of one message. */
  id: string;
  /** webhook-timestamp, in seconds. */
  timestamp: number;
}

const SECRET_PREFIX = 'whsec_';

/** The key bytes of a "whsec_<base64>" secret (the prefix may be left out). */
export function standardSecretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new ConfigError('a Standard Webhooks secret is "whsec_" and base64');
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 16) throw new ConfigError('a Standard Webhooks secret needs at least 16 bytes of key');
  return key;
}

/** Throws WebhookVerificationError unless one v1 signature matches one of the secrets within the tolerance. */
export function verifyStandardWebhook(options: StandardVerifyOptions): VerifiedStandardDelivery {
  const keys = secretList(options.secrets, 'verifyStandardWebhook').map(standardSecretKey);
  const tolerance = checkTolerance(options.toleranceSeconds, 'verifyStandardWebhook');
  const { headers, body } = options;
  const id = headers['webhook-id'];
  const signatures = headers['webhook-signature'];
  if (!id || headers['webhook-timestamp'] === undefined || !signatures) {
    throw new WebhookVerificationError(
      'missing_signature',
      'webhook-id, webhook-timestamp and webhook-signature headers are required',
    );
  }
  const stamp = headers['webhook-timestamp'];
  const timestamp = parseTimestamp(stamp);
  checkTimestamp(timestamp, options.now ?? Date.now(), tolerance);
  // Other versions (v1a: asymmetric) are skipped, as the spec says.
  const offered = signatures
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'));
  if (offered.length === 0) throw new WebhookVerificationError('malformed_signature', 'webhook-signature has no v1 signature');
  // the timestamp as sent: it is what was signed
  const signed = `${id}.${stamp}.`;
  for (const key of keys) {
    const expected = hmacSha256(key, signed, body);
    if (offered.some((candidate) => sameBytes(candidate, expected))) return { id, timestamp };
  }
  throw new WebhookVerificationError('signature_mismatch', 'no webhook-signature matches a configured secret');
}

/** The webhook-signature value ("v1,<base64>") of a delivery: for tests and for sending webhooks. */
export function signStandardWebhook(options: {
  id: string;
  timestamp: number;
  body: Uint8Array | string;
  secret: string;
}): string {
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  const mac = hmacSha256(standardSecretKey(options.secret), `${options.id}.${options.timestamp}.`, body);
  return `v1,${mac.toString('base64')}`;
}

/** The three headers of a signed Standard Webhooks delivery. */
export function standardWebhookHeaders(options: {
  id: string;
  timestamp: number;
  body: Uint8Array | string;
  secret: string;
}): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': options.id,
    'webhook-timestamp': String(options.timestamp),
    'webhook-signature': signStandardWebhook(options),
  };
}
