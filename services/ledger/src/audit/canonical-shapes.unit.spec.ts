import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalizationError, canonicalize } from './canonical.ts';

// canonicalize remembers the member order of the object shapes it meets: a remembered shape must
// give exactly the text a fresh sort gives, whatever order, names or number of shapes come.
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const names = Object.keys(record).sort();
    return `{${names.map((name) => `${JSON.stringify(name)}:${reference(record[name])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const names = fc.constantFrom('a', 'b', 'aa', 'B', '1', '10', '2', 'é', '€', '\ud83d\ude00', 'id', 'at', '');

describe('canonicalize with remembered shapes', () => {
  it('gives the reference text for objects of the same names in any order, met again and again', () => {
    const object = fc.dictionary(names, fc.oneof(fc.integer(), fc.string(), fc.constant(null)));
    fc.assert(
      fc.property(fc.array(object, { minLength: 1, maxLength: 20 }), (objects) => {
        for (const o of objects) {
          expect(canonicalize(o)).toBe(reference(o));
          // The same names inserted in the reverse order: another Object.keys order, same text.
          const reversed = Object.fromEntries(Object.entries(o).reverse());
          expect(canonicalize(reversed)).toBe(reference(o));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays right past its bounds: many shapes, wide objects, many shapes under one first name', () => {
    const objects: Record<string, number>[] = [];
    for (let i = 0; i < 700; i += 1) objects.push({ a: 1, [`k${i}`]: i, [`z${i % 7}`]: 2 });
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`w${99 - i}`, i]));
    objects.push(wide, wide);
    for (let round = 0; round < 2; round += 1) {
      for (const o of objects) expect(canonicalize(o)).toBe(reference(o));
    }
  });

  it('refuses a lone surrogate in a name every time, not only the first', () => {
    for (let i = 0; i < 3; i += 1) {
      expect(() => canonicalize({ ok: 1, ['\ud800']: 1 })).toThrow(CanonicalizationError);
      expect(() => canonicalize({ ok: 1, ['\ud800']: 1 })).toThrow(/lone surrogate/);
    }
    expect(canonicalize({ ok: 1, x: 2 })).toBe('{"ok":1,"x":2}');
  });

  it('tells apart shapes that differ only after their first name', () => {
    expect(canonicalize({ m: 1, b: 2 })).toBe('{"b":2,"m":1}');
    expect(canonicalize({ m: 1, z: 2 })).toBe('{"m":1,"z":2}');
    expect(canonicalize({ m: 1, b: 2, c: 3 })).toBe('{"b":2,"c":3,"m":1}');
    expect(canonicalize({ m: 1 })).toBe('{"m":1}');
    expect(canonicalize({})).toBe('{}');
  });
});
