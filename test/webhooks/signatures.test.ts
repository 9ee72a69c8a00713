import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import {
  signStandardWebhook,
  signStripeSignature,
  standardWebhookHeaders,
  verifyStandardWebhook,
  verifyStripeSignature,
  WebhookVerificationError,
} from '../../src/webhooks/index.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const NOW_S = 1_700_000_000;
const NOW = NOW_S * 1000;

/** Expects a WebhookVerificationError with this reason. */
function refused(fn: () => unknown, reason: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    expect((error as WebhookVerificationError).reason).toBe(reason);
    expect((error as WebhookVerificationError).code).toBe('ERR_WEBHOOK_VERIFICATION');
    return;
  }
  throw new Error('expected a WebhookVerificationError');
}

describe('Standard Webhooks', () => {
  const key = randomBytes(24);
  const secret = `whsec_${key.toString('base64')}`;
  const body = '{"type":"user.created","data":{"id":42}}';
  // Computed here, independently of the library: base64 HMAC-SHA256 over id.timestamp.body with the decoded key.
  const expected = (k: Buffer, id: string, ts: number | string, payload: string): string =>
    `v1,${createHmac('sha256', k).update(`${id}.${ts}.${payload}`).digest('base64')}`;

  it('signs as the spec says (the published example, and a vector computed with node:crypto)', () => {
    expect(
      signStandardWebhook({
        id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestamp: 1614265330,
        body: '{"test": 2432232314}',
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      }),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(signStandardWebhook({ id: 'msg_1', timestamp: NOW_S, body, secret })).toBe(expected(key, 'msg_1', NOW_S, body));
  });

  it('accepts a delivery signed with the secret, within the tolerance', () => {
    const headers = standardWebhookHeaders({ id: 'msg_1', timestamp: NOW_S - 299, body, secret });
    expect(verifyStandardWebhook({ headers, body: bytes(body), secrets: secret, now: NOW })).toEqual({
      id: 'msg_1',
      timestamp: NOW_S - 299,
    });
  });

  it('accepts any of several space-separated signatures, skipping other versions', () => {
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(NOW_S),
      'webhook-signature': `v1a,c29tZXRoaW5n ${signStandardWebhook({ id: 'msg_1', timestamp: NOW_S, body, secret: other })} ${expected(key, 'msg_1', NOW_S, body)}`,
    };
    expect(verifyStandardWebhook({ headers, body: bytes(body), secrets: secret, now: NOW }).id).toBe('msg_1');
  });

  it('rotation: either of the configured secrets verifies', () => {
    const next = `whsec_${randomBytes(32).toString('base64')}`;
    for (const signer of [secret, next]) {
      const headers = standardWebhookHeaders({ id: 'msg_2', timestamp: NOW_S, body, secret: signer });
      expect(verifyStandardWebhook({ headers, body: bytes(body), secrets: [secret, next], now: NOW }).id).toBe('msg_2');
    }
  });

  it('refuses a wrong secret, a changed body, id or timestamp', () => {
    const headers = standardWebhookHeaders({ id: 'msg_1', timestamp: NOW_S, body, secret });
    const wrong = `whsec_${randomBytes(24).toString('base64')}`;
    refused(() => verifyStandardWebhook({ headers, body: bytes(body), secrets: wrong, now: NOW }), 'signature_mismatch');
    refused(() => verifyStandardWebhook({ headers, body: bytes(body + ' '), secrets: secret, now: NOW }), 'signature_mismatch');
    refused(
      () =>
        verifyStandardWebhook({ headers: { ...headers, 'webhook-id': 'msg_9' }, body: bytes(body), secrets: secret, now: NOW }),
      'signature_mismatch',
    );
    refused(
      () =>
        verifyStandardWebhook({
          headers: { ...headers, 'webhook-timestamp': String(NOW_S + 1) },
          body: bytes(body),
          secrets: secret,
          now: NOW,
        }),
      'signature_mismatch',
    );
  });

  it('refuses timestamps older or newer than the tolerance (default 5 minutes, configurable)', () => {
    for (const ts of [NOW_S - 301, NOW_S + 301]) {
      const headers = standardWebhookHeaders({ id: 'msg_1', timestamp: ts, body, secret });
      refused(
        () => verifyStandardWebhook({ headers, body: bytes(body), secrets: secret, now: NOW }),
        'timestamp_out_of_tolerance',
      );
      expect(verifyStandardWebhook({ headers, body: bytes(body), secrets: secret, now: NOW, toleranceSeconds: 600 }).id).toBe(
        'msg_1',
      );
    }
  });

  it('refuses missing and malformed headers', () => {
    const headers = standardWebhookHeaders({ id: 'msg_1', timestamp: NOW_S, body, secret });
    const check = (h: Record<string, string | undefined>) => () =>
      verifyStandardWebhook({ headers: h, body: bytes(body), secrets: secret, now: NOW });
    refused(check({ ...headers, 'webhook-signature': undefined }), 'missing_signature');
    refused(check({ ...headers, 'webhook-id': undefined }), 'missing_signature');
    refused(check({ ...headers, 'webhook-timestamp': 'soon' }), 'malformed_signature');
    refused(check({ ...headers, 'webhook-signature': 'v2,abc' }), 'malformed_signature');
  });

  it('signs the raw bytes: a body that is not valid UTF-8 still verifies', () => {
    const raw = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const signature = `v1,${createHmac('sha256', key).update(`msg_1.${NOW_S}.`).update(raw).digest('base64')}`;
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW_S), 'webhook-signature': signature };
    expect(verifyStandardWebhook({ headers, body: raw, secrets: secret, now: NOW }).id).toBe('msg_1');
  });

  it('refuses secrets that are not whsec_ base64 keys', () => {
    expect(() => signStandardWebhook({ id: 'a', timestamp: 1, body: '', secret: 'whsec_not base64!' })).toThrow(ConfigError);
    expect(() => verifyStandardWebhook({ headers: {}, body: bytes(''), secrets: [] })).toThrow(ConfigError);
  });
});

describe('Stripe-Signature', () => {
  const secret = 'whsec_test_' + randomBytes(16).toString('hex');
  const body = '{"id":"evt_1","type":"payment_intent.succeeded"}';
  // Stripe keys the HMAC with the secret string itself (not base64-decoded), over t.body, in hex.
  const hex = (s: string, t: number, payload: string): string => createHmac('sha256', s).update(`${t}.${payload}`).digest('hex');

  it('signs t=…,v1=<hex> as computed with node:crypto', () => {
    expect(signStripeSignature({ timestamp: NOW_S, body, secret })).toBe(`t=${NOW_S},v1=${hex(secret, NOW_S, body)}`);
  });

  it('accepts one of several v1 signatures, ignores v0 and unknown items', () => {
    const header = `t=${NOW_S},v0=${hex('x', NOW_S, body)},v1=${hex('other', NOW_S, body)},v1=${hex(secret, NOW_S, body)},x=1`;
    expect(verifyStripeSignature({ header, body: bytes(body), secrets: secret, now: NOW })).toEqual({ timestamp: NOW_S });
  });

  it('rotation: either secret verifies', () => {
    const next = 'whsec_next_' + randomBytes(16).toString('hex');
    for (const signer of [secret, next]) {
      const header = signStripeSignature({ timestamp: NOW_S, body, secret: signer });
      expect(verifyStripeSignature({ header, body: bytes(body), secrets: [secret, next], now: NOW }).timestamp).toBe(NOW_S);
    }
  });

  it('refuses a wrong secret, a changed body, skew beyond the tolerance, and malformed headers', () => {
    const header = signStripeSignature({ timestamp: NOW_S, body, secret });
    refused(() => verifyStripeSignature({ header, body: bytes(body), secrets: 'whsec_other', now: NOW }), 'signature_mismatch');
    refused(
      () => verifyStripeSignature({ header, body: bytes(body.replace('1', '2')), secrets: secret, now: NOW }),
      'signature_mismatch',
    );
    refused(
      () => verifyStripeSignature({ header, body: bytes(body), secrets: secret, now: NOW + 301_000 }),
      'timestamp_out_of_tolerance',
    );
    refused(
      () => verifyStripeSignature({ header, body: bytes(body), secrets: secret, now: NOW - 301_000 }),
      'timestamp_out_of_tolerance',
    );
    refused(
      () => verifyStripeSignature({ header: undefined, body: bytes(body), secrets: secret, now: NOW }),
      'missing_signature',
    );
    refused(
      () => verifyStripeSignature({ header: `v1=${hex(secret, NOW_S, body)}`, body: bytes(body), secrets: secret, now: NOW }),
      'malformed_signature',
    );
    refused(
      () => verifyStripeSignature({ header: `t=${NOW_S}`, body: bytes(body), secrets: secret, now: NOW }),
      'malformed_signature',
    );
  });
});
