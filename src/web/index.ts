// errand/web: the Fastify plugin, and what every adapter shares.
export { errandWeb } from './fastify/plugin.js';
export * from './public-api.js';
export { StatusHub, createStatusHub, type StatusHubOptions } from '../status/status-hub.js';
