import { standardSecretKey, verifyStandardWebhook } from './standard-webhooks.js';
import { STRIPE_SIGNATURE_HEADER, verifyStripeSignature } from './stripe-signature.js';

export type WebhookScheme = 'standard' | 'stripe';

/** What a verified signature tells about a delivery. */
export interface VerifiedDelivery {
  scheme: WebhookScheme;
  /** Seconds since the epoch, as signed. */
  timestamp: number;
  /** Standard Webhooks: the webhook-id header (the provider's message id). Stripe puts its id in the body. */
  messageId?: string;
}

type Headers = Readonly<Record<string, string | undefined>>;

export interface SchemeCheck {
  verify(headers: Headers, body: Uint8Array, secrets: readonly string[], toleranceSeconds: number, now: number): VerifiedDelivery;
  /** Throws ConfigError for a secret the scheme cannot use (checked once, at setup). */
  checkSecret(secret: string): void;
}

export const SCHEMES: Readonly<Record<WebhookScheme, SchemeCheck>> = {
  standard: {
    verify(headers, body, secrets, toleranceSeconds, now) {
      const { id, timestamp } = verifyStandardWebhook({ headers, body, secrets, toleranceSeconds, now });
      return { scheme: 'standard', timestamp, messageId: id };
    },
    checkSecret: (secret) => void standardSecretKey(secret),
  },
  stripe: {
    verify(headers, body, secrets, toleranceSeconds, now) {
      const { timestamp } = verifyStripeSignature({
        header: headers[STRIPE_SIGNATURE_HEADER],
        body,
        secrets,
        toleranceSeconds,
        now,
      });
      return { scheme: 'stripe', timestamp };
    },
    checkSecret: () => {},
  },
};
