import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, isCanonicalJson } from '../../../src/audit/canonical-json.js';

/** An IEEE-754 double from its 16 hex digits, as RFC 8785 Appendix B lists them. */
const double = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0);

describe('canonicalJson (RFC 8785)', () => {
  it('serialises the sample object of RFC 8785 section 3.2.2', () => {
    // The input text, parsed as any JSON parser would: numbers and escapes as written in the RFC.
    const input = JSON.parse(
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
        '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units (RFC 8785 section 3.2.3)', () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",' +
        '"\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    );
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign",' +
        '"\u{1f600}":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by code units, after it by code points.
    expect(canonicalJson({ '\ufb33': 1, '\u{1f600}': 2 })).toBe('{"\u{1f600}":2,"\ufb33":1}');
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('writes the double %s as %s (RFC 8785 appendix B)', (hex, expected) => {
    expect(canonicalJson(double(hex))).toBe(expected);
  });

  it('writes nested structures without whitespace and leaves out undefined members', () => {
    expect(canonicalJson({ b: [{ z: 1, a: [] }, 'x'], a: {}, u: undefined, n: null })).toBe('{"a":{},"b":[{"a":[],"z":1},"x"],"n":null}');
    expect(canonicalJson(Object.assign(Object.create(null) as object, { k: true }))).toBe('{"k":true}');
  });

  it.each([
    [{ a: [1, Number.NaN] }, '$.a[1]'],
    [{ a: { 'b c': Number.POSITIVE_INFINITY } }, '$.a["b c"]'],
    [{ n: 1n }, '$.n'],
    [[1, undefined], '$[1]'],
    [{ f: () => 1 }, '$.f'],
    [{ s: Symbol('x') }, '$.s'],
    [{ d: new Date(0) }, '$.d'],
    [{ m: new Map() }, '$.m'],
    [{ s: 'a\ud800b' }, '$.s'],
    [{ ['\udc00']: 1 }, '$["\\udc00"]'],
    [undefined, '$'],
  ])('rejects %o naming %s', (value, path) => {
    expect(() => canonicalJson(value)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(value)).toThrow(`cannot canonicalise ${path}:`);
  });

  it('rejects sparse arrays and cycles', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(() => canonicalJson([1, , 3])).toThrow('$[1]');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { again: cyclic };
    expect(() => canonicalJson(cyclic)).toThrow('$.self.again: circular reference');
    // The same object twice, not nested in itself, is not a cycle.
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('tells canonical texts from others', () => {
    expect(isCanonicalJson('{"a":1,"b":[true]}')).toBe(true);
    expect(isCanonicalJson('{"b":1,"a":2}')).toBe(false);
    expect(isCanonicalJson('{"a": 1}')).toBe(false);
    expect(isCanonicalJson('{"a":1.0}')).toBe(false);
    expect(isCanonicalJson('{"a":1,"a":1}')).toBe(false);
    expect(isCanonicalJson('"\\u00e9"')).toBe(false);
    expect(isCanonicalJson('1e400')).toBe(false);
    expect(isCanonicalJson('not json')).toBe(false);
  });
});
