import { describe, expect, it } from 'vitest';
import { encodeJson } from '../../src/core/json.js';
import { PayloadTooLargeError, SerializationError } from '../../src/index.js';

describe('encodeJson', () => {
  it('encodes plain data', () => {
    expect(encodeJson([1, 'a', null, { b: [true] }], 'args', 1024)).toBe('[1,"a",null,{"b":[true]}]');
    expect(encodeJson([Object.create(null)], 'args', 1024)).toBe('[{}]');
  });

  it('names the path of what JSON would change', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[undefined], /args\[0\].*undefined/],
      [[{ f: () => 1 }], /args\[0\]\.f.*function/],
      [[{ d: new Date() }], /args\[0\]\.d.*Date/],
      [[Infinity], /Infinity/],
      [[Symbol('s')], /symbol/],
      [[1n], /bigint/],
      [[new (class Point {})()], /Point/],
    ];
    for (const [value, message] of cases) {
      expect(() => encodeJson(value, 'args', 1024)).toThrow(SerializationError);
      expect(() => encodeJson(value, 'args', 1024)).toThrow(message);
    }
  });

  it('allows the same object twice but not a cycle', () => {
    const shared = { a: 1 };
    expect(encodeJson([shared, shared], 'args', 1024)).toBe('[{"a":1},{"a":1}]');
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => encodeJson(cyclic, 'args', 1024)).toThrow(/circular/);
  });

  it('measures the limit in UTF-8 bytes', () => {
    expect(() => encodeJson(['é'.repeat(600)], 'args', 1024)).toThrow(PayloadTooLargeError);
    expect(encodeJson(['e'.repeat(600)], 'args', 1024)).toHaveLength(604);
  });
});
