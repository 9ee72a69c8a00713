// What every errand web entry point (errand/web, errand/express, errand/hono, errand/node) exports besides its adapter.
export type { ErrandWebOptions } from './options.js';
export { AuthorizationError, DEFAULT_EXPOSED, type Authorize, type Expose, type ExposedField } from './core/access.js';
export type { WebRequest } from './core/web-request.js';
export type { ErrorBody } from './http-errors.js';
export { statusMessage, type StatusMessage } from '../status/status-message.js';
export * from './channels/index.js';
export type { AuthorizeFeed, FeedRoutesOptions } from './feeds/feed-context.js';
