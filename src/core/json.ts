import { DecodeError, PayloadTooLargeError, SerializationError } from './errors.js';

/**
 * How deeply arrays and objects may nest in what errand stores: arguments
 * (the argument array counts as a level), results, progress meta. Encoding
 * refuses deeper values with a SerializationError, and decoding refuses deeper
 * stored text with a DecodeError: nothing errand wrote can be that deep, and a
 * value that is would overflow the stack of whatever walks it next
 * (JSON.stringify, a handler). Well below the 1000 levels SQLite's JSON
 * functions and Redis's cjson accept.
 */
export const MAX_JSON_DEPTH = 512;

/**
 * Encodes a value as JSON, refusing anything JSON would silently change:
 * undefined, functions, symbols, bigint, NaN/Infinity, Dates, Maps, class
 * instances and cycles, and values nested deeper than MAX_JSON_DEPTH.
 * Arguments are data, not objects: pass ids.
 */
export function encodeJson(value: unknown, what: string, limitBytes: number): string {
  assertJsonSafe(value, what, new Set(), 0);
  const text = JSON.stringify(value);
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limitBytes) throw new PayloadTooLargeError(what, size, limitBytes);
  return text;
}

/**
 * Parses stored JSON text. Throws a DecodeError naming `what` when it is not
 * valid JSON or nests deeper than `maxDepth` (checked before parsing, so a
 * hostile text is never built into a value).
 */
export function decodeJson(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (nestsDeeperThan(text, maxDepth)) throw new DecodeError(`${what} is nested deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DecodeError(`${what} is not valid JSON`, { cause });
  }
}

/** Whether JSON text opens more than `max` arrays/objects at once (strings skipped). */
export function nestsDeeperThan(text: string, max: number): boolean {
  // Valid JSON needs two characters per level: short texts cannot be too deep.
  if (text.length <= 2 * max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // skip the string, escapes included
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c /* \ */) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

function assertJsonSafe(value: unknown, path: string, seen: Set<object>, depth: number): void {
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
  if (depth >= MAX_JSON_DEPTH) {
    throw new SerializationError(shorten(path), `nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`);
  }
  if (seen.has(value)) throw new SerializationError(path, 'circular reference');
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertJsonSafe(item, `${path}[${i}]`, seen, depth + 1));
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (value as object).constructor?.name ?? 'object';
      throw new SerializationError(path, `a ${kind} is not plain JSON data (pass a string, number or plain object)`);
    }
    for (const [key, item] of Object.entries(value)) assertJsonSafe(item, `${path}.${key}`, seen, depth + 1);
  }
  seen.delete(value);
}

/** A path hundreds of levels long says nothing more than its start. */
function shorten(path: string): string {
  return path.length <= 80 ? path : `${path.slice(0, 80)}…`;
}
