import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson, MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/core/json.js';
import { DecodeError, PayloadTooLargeError, SerializationError } from '../../src/index.js';

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

describe('nesting depth', () => {
  const nested = (levels: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = i % 2 ? { a: value } : [value];
    return value;
  };

  it('encodes up to MAX_JSON_DEPTH levels and refuses one more with a short path, never a RangeError', () => {
    const text = encodeJson(nested(MAX_JSON_DEPTH), 'result', 1e9);
    expect(nestsDeeperThan(text, MAX_JSON_DEPTH)).toBe(false);
    expect(() => encodeJson(nested(MAX_JSON_DEPTH + 1), 'result', 1e9)).toThrow(SerializationError);
    expect(() => encodeJson(nested(200_000), 'args', 1e9)).toThrow(/^args.{0,100}: nested deeper than 512 levels/);
  });

  it('decodes up to the limit; deeper or invalid text is a DecodeError naming what it is', () => {
    const text = JSON.stringify(nested(MAX_JSON_DEPTH));
    expect(decodeJson(text, 'x')).toEqual(nested(MAX_JSON_DEPTH));
    expect(() => decodeJson(`[${text}]`, 'the arguments')).toThrow(DecodeError);
    expect(() => decodeJson('['.repeat(200_000) + ']'.repeat(200_000), 'the arguments')).toThrow(
      /^the arguments is nested deeper than 512 levels$/,
    );
    expect(() => decodeJson('{"a":', 'the result')).toThrow(/^the result is not valid JSON$/);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const inString = JSON.stringify(['['.repeat(5000), '\\"[[[[', { k: '{{{{' }]);
    expect(nestsDeeperThan(inString, 3)).toBe(false);
    expect(nestsDeeperThan('[[[[' + ' '.repeat(10) + ']]]]', 3)).toBe(true);
  });
});
