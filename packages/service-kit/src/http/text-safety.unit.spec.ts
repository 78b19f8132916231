import { describe, expect, it } from 'vitest';
import { findUnstorableText, isStorableText } from './text-safety.ts';

describe('storable text', () => {
  it('refuses a NUL and a lone surrogate, keeps emoji, accents and right-to-left text', () => {
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('\uD83D')).toBe(false);
    expect(isStorableText('x\uDE00y')).toBe(false);
    expect(isStorableText('\uDE00\uD83D')).toBe(false);
    for (const ok of ['', 'plain', 'café', '😀 done', 'שלום', 'a\u200Db', '\uD83D\uDE00']) {
      expect(isStorableText(ok), ok).toBe(true);
    }
  });

  it('names the path of the first bad string, in keys, arrays and nested objects', () => {
    expect(findUnstorableText({ a: 'ok', b: ['fine', { c: 'n\u0000' }] }, 'body')).toBe('body.b[1].c');
    expect(findUnstorableText({ ['k\u0000']: 1 }, 'body')).toBe('body (a key)');
    expect(findUnstorableText({ reference: 'x\uD800' }, 'body')).toBe('body.reference');
    expect(findUnstorableText({ n: 1, t: true, z: null, s: 'ok' }, 'body')).toBeNull();
    expect(findUnstorableText(undefined, 'body')).toBeNull();
    expect(findUnstorableText(Buffer.from([0, 1]), 'body')).toBeNull();
  });

  it('finds a bad string however deep it is nested, without running out of stack', () => {
    let deep: unknown = { answer: 'x\u0000' };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnstorableText(deep, 'body')).toMatch(/^body(\[0\]){100000}\.answer$/);
  });
});
