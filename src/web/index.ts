export { errandWeb, type ErrandWebOptions } from './plugin.js';
export type { ErrorBody } from './http-errors.js';
export { statusMessage, type StatusMessage } from '../status/status-message.js';
export { StatusHub, createStatusHub, type StatusHubOptions } from '../status/status-hub.js';
