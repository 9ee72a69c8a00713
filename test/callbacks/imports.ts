// What the callback tests use of the public API, in one place.
export { CallbackRefusedError, ConfigError, createApp, type CallbackOptions, type Errand } from '../../src/index.js';
export { verifyStandardWebhook as verifyStandardWebhookForTest } from '../../src/webhooks/index.js';
