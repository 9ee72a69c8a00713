import type { JsonValue } from '../../core/types.js';
import { CHANNEL_CLOSE } from './channel-route.js';

export type Inbound = { ok: true; message: JsonValue } | { ok: false; code: number; reason: string };

/** One frame from the client as a JSON object, or why the socket must close. */
export function decodeInbound(data: unknown, binary: boolean, maxBytes: number): Inbound {
  const bytes = toBuffer(data);
  if (bytes.byteLength > maxBytes) return { ok: false, code: CHANNEL_CLOSE.tooLarge, reason: 'message too large' };
  if (binary) return { ok: false, code: CHANNEL_CLOSE.badMessage, reason: 'text frames only' };
  let message: unknown;
  try {
    message = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, code: CHANNEL_CLOSE.badMessage, reason: 'not JSON' };
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { ok: false, code: CHANNEL_CLOSE.badMessage, reason: 'not a JSON object' };
  }
  return { ok: true, message: message as JsonValue };
}

/** ws hands a Buffer, an ArrayBuffer or fragments (Buffer[]) depending on binaryType. */
function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(String(data));
}
