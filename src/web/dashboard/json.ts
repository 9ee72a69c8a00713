import { jsonReply, type WebReply } from '../core/web-response.js';

/** Dashboard data is about the whole broker: never stored by any cache. */
export const NO_STORE = { 'cache-control': 'no-store, private', 'x-content-type-options': 'nosniff' };

export function dashboardJson(body: unknown, status = 200): WebReply {
  return jsonReply(status, body, NO_STORE);
}
