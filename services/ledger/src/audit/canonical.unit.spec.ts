import { describe, expect, it } from 'vitest';
import { CanonicalizationError, canonicalBytes, canonicalize } from './canonical.ts';

describe('canonicalize (RFC 8785)', () => {
  it('matches the RFC 8785 example (§3.2.2): numbers, escapes, literals, member order', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], ' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units (RFC 8785 §3.2.3)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const names = Object.keys(JSON.parse(canonicalize(input)) as object);
    // JSON.parse keeps integer-like names first, so compare the serialized order instead.
    expect(names).toContain('1');
    const text = canonicalize(input);
    const order = ['\\r', '1', '\u0080', 'ö', '€', '😀', '\ufb33'].map((name) => text.indexOf(`"${name}"`));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.every((i) => i >= 0)).toBe(true);
  });

  it('is the same whatever the insertion order, at any depth; arrays keep their order', () => {
    const a = { b: 1, a: { y: [3, 1, 2], x: 'x' }, c: null };
    const b = { c: null, a: { x: 'x', y: [3, 1, 2] }, b: 1 };
    expect(canonicalize(a)).toBe(canonicalize(b));
    expect(canonicalize(a)).toBe('{"a":{"x":"x","y":[3,1,2]},"b":1,"c":null}');
  });

  it('writes numbers the ECMAScript way', () => {
    expect(
      canonicalize([0, -0, 1, -1, 1.5, 1e21, 1e-7, 123456789012345680000, Number.MAX_SAFE_INTEGER]),
    ).toBe('[0,0,1,-1,1.5,1e+21,1e-7,123456789012345680000,9007199254740991]');
  });

  it('keeps non-ASCII as UTF-8 and escapes only what JSON must', () => {
    expect(canonicalize('é€😀\u0007\u007f"\\')).toBe('"é€😀\\u0007\u007f\\"\\\\"');
    expect([...canonicalBytes('é')]).toEqual([0x22, 0xc3, 0xa9, 0x22]);
  });

  it('refuses what JSON cannot carry faithfully', () => {
    for (const bad of [
      NaN,
      Infinity,
      undefined,
      1n,
      () => 1,
      new Date(0),
      '\ud800',
      { a: '\udc00x' },
      [undefined],
    ]) {
      expect(() => canonicalize(bad)).toThrow(CanonicalizationError);
    }
  });
});
