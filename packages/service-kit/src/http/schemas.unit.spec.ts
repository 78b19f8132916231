import { describe, expect, it } from 'vitest';
import {
  idempotencyHeaders,
  isUuid,
  positiveMoney,
  requiredIdempotencyHeaders,
  safeText,
  uuidParam,
} from './schemas.ts';

describe('safeText', () => {
  const name = safeText(10);
  const note = safeText(50, { multiline: true });

  it('trims and accepts text as people write it, joiners included', () => {
    expect(name.parse('  Zoë  ')).toBe('Zoë');
    expect(name.parse('می‌خواهم')).toBe('می‌خواهم'); // Persian needs the zero-width non-joiner
    expect(name.parse('👩‍💻')).toBe('👩‍💻'); // an emoji sequence with a zero-width joiner
    expect(note.parse('line one\n\tline two')).toBe('line one\n\tline two');
  });

  it.each([
    ['a NUL', 'a\u0000b', 'contains control characters'],
    ['a line break in one-line text', 'a\nb', 'contains control characters'],
    ['a C1 control', 'a\u0085b', 'contains control characters'],
    ['a lone surrogate', 'a\uD800b', 'contains an unpaired UTF-16 surrogate'],
    ['a bidi override', 'abc\u202Egpj.exe', 'contains invisible or reordering characters'],
    ['a zero-width space', 'ad\u200Bmin', 'contains invisible or reordering characters'],
    ['a byte-order mark', '\uFEFFname', 'contains invisible or reordering characters'],
  ])('refuses %s, saying why', (_, input, reason) => {
    const result = name.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(reason);
  });

  it('counts the length after trimming', () => {
    expect(name.safeParse(`  ${'x'.repeat(10)}  `).success).toBe(true);
    expect(name.safeParse('x'.repeat(11)).success).toBe(false);
  });
});

describe('ids, keys and money', () => {
  it('lower-cases a UUID so that one entity has one spelling, and refuses anything else', () => {
    expect(uuidParam.parse('0F1E2D3C-4B5A-4968-8776-655443322110')).toBe(
      '0f1e2d3c-4b5a-4968-8776-655443322110',
    );
    expect(uuidParam.safeParse('not-a-uuid').success).toBe(false);
    expect(isUuid('0F1E2D3C-4B5A-4968-8776-655443322110')).toBe(true);
    expect(isUuid("x' or 1=1")).toBe(false);
  });

  it('takes an Idempotency-Key of 1 to 255 visible ASCII characters, optional or required', () => {
    expect(idempotencyHeaders.parse({ authorization: 'Bearer t' })).toEqual({ authorization: 'Bearer t' });
    expect(idempotencyHeaders.safeParse({ 'idempotency-key': 'k'.repeat(255) }).success).toBe(true);
    expect(idempotencyHeaders.safeParse({ 'idempotency-key': 'k'.repeat(256) }).success).toBe(false);
    expect(idempotencyHeaders.safeParse({ 'idempotency-key': 'has space' }).success).toBe(false);
    expect(requiredIdempotencyHeaders.safeParse({}).success).toBe(false);
  });

  it('takes money as positive integer minor units with a currency, never a float', () => {
    expect(positiveMoney.parse({ amount: 500, currency: 'USD' })).toEqual({ amount: 500, currency: 'USD' });
    for (const amount of [0, -1, 5.5, Number.MAX_SAFE_INTEGER + 1]) {
      expect(positiveMoney.safeParse({ amount, currency: 'USD' }).success).toBe(false);
    }
    expect(positiveMoney.safeParse({ amount: 1, currency: 'usd' }).success).toBe(false);
  });
});
