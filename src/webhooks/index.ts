// errand/webhooks: receive signed webhooks, answer 202 at once, do the work in a worker.
export {
  webhookReceiver,
  DEFAULT_MAX_BODY_BYTES,
  type WebhookReceiver,
  type WebhookReceiverOptions,
  type WebhookTask,
} from './receiver.js';
export type { VerifiedDelivery, WebhookScheme } from './schemes.js';
export { WebhookVerificationError, type VerificationFailure } from './errors.js';
export type { WebhookErrorBody, WebhookErrorCode } from './webhook-replies.js';
export { DEFAULT_TOLERANCE_SECONDS } from './hmac.js';
export {
  verifyStandardWebhook,
  signStandardWebhook,
  standardWebhookHeaders,
  type StandardVerifyOptions,
  type VerifiedStandardDelivery,
} from './standard-webhooks.js';
export {
  verifyStripeSignature,
  signStripeSignature,
  STRIPE_SIGNATURE_HEADER,
  type StripeVerifyOptions,
} from './stripe-signature.js';
export { webhookFastify, type WebhookFastifyOptions } from './fastify-plugin.js';
export { webhookNodeHandler } from './node-adapter.js';
export { webhookFetchHandler } from './fetch-adapter.js';
