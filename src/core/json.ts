import { PayloadTooLargeError, SerializationError } from './errors.js';

/**
 * Encodes a value as JSON, refusing anything JSON would silently change:
 * undefined, functions, symbols, bigint, NaN/Infinity, Dates, Maps, class
 * instances and cycles. Arguments are data, not objects: pass ids.
 */
export function encodeJson(value: unknown, what: string, limitBytes: number): string {
  assertJsonSafe(value, what, new Set());
  const text = JSON.stringify(value);
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limitBytes) throw new PayloadTooLargeError(what, size, limitBytes);
  return text;
}

function assertJsonSafe(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new SerializationError(path, `${value} is not representable in JSON`);
      return;
    case 'object':
      break;
    default:
      throw new SerializationError(path, `a ${typeof value} is not JSON-serialisable`);
  }
  if (value === null) return;
  if (seen.has(value)) throw new SerializationError(path, 'circular reference');
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertJsonSafe(item, `${path}[${i}]`, seen));
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (value as object).constructor?.name ?? 'object';
      throw new SerializationError(path, `a ${kind} is not plain JSON data (pass a string, number or plain object)`);
    }
    for (const [key, item] of Object.entries(value)) assertJsonSafe(item, `${path}.${key}`, seen);
  }
  seen.delete(value);
}
