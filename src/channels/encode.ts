import { ConfigError } from '../core/errors.js';
import { encodeJson } from '../core/json.js';
import type { ChannelMessage } from './channel-layer.js';

/** Encodes a message as JSON, refusing non-objects and anything JSON would change (typed errors from core/json). */
export function encodeMessage(message: ChannelMessage, limitBytes: number): string {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new ConfigError('a channel message must be a JSON object');
  }
  return encodeJson(message, 'message', limitBytes);
}
