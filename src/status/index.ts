export { statusMessage, type StatusMessage } from './status-message.js';
export { StatusEvent } from './status-event.js';
export { StatusSubscription, type SubscriptionEnd } from './status-subscription.js';
export { StatusHub, createStatusHub, type StatusHubOptions, type SubscribeOptions } from './status-hub.js';
